/*
 * services.c — the file services a head runs (NFS now; SMB later), seen
 * from the daemon: start, stop, status lines, their admin commands.
 * Kept apart from duonasd.c so the daemon core builds and runs its tests
 * without the export layer.
 */
#include "common/log.h"
#include "ctl/ctl.h"
#include "duonasd.h"

int
services_init(void)
{
	return 0;
}

void
services_shutdown(void)
{
}

void
services_status(struct buf *out, int json)
{
	(void)out; (void)json;
}

void
services_ctl_register(void)
{
}
