/*
 * duonasd_image.h — the daemon's side of the boot software
 * (duonasd_image.c, docs/boot-images.md).
 */
#ifndef DUONASD_IMAGE_H
#define DUONASD_IMAGE_H

#include <stdint.h>

#include "common/cfg.h"
#include "common/util.h"

/* Where duonas-boot puts its own path for the daemon (re-exec). */
#define BOOT_PATH_ENV	"DUONAS_BOOT_PATH"

/* Before ha_init (registers the HA software hooks with dimg_ha_hooks):
 * read DUONAS_BOOT_INFO and the running image's manifest.  conf and
 * debug are what a restart through duonas-boot passes on. */
int	dimg_init(const struct cfg *cfg, int self, const char *conf,
	    int debug);
void	dimg_ha_hooks(void);
/* After ctcm_boot restored the array's configuration: start again.  A
 * head started by duonas-boot whose restored image section prefers
 * another image than the one it runs goes back through duonas-boot
 * (which switches slots or installs it: a joiner takes the cluster's
 * version); any other head executes the same program again, with
 * DUONAS_BOOT_INFO and DUONAS_BOOT_PATH put back (dimg_init took them
 * out of the environment for the children).  Returns only when the
 * exec failed. */
void	dimg_restart_restored(void);
/* Loop thread, after link_init: the tick (good marking, factory
 * initialisation) and the peer's restart requests. */
void	dimg_start(void);
void	dimg_stop(void);
/* The running version (the image's, else PACKAGE_VERSION). */
const char *dimg_version(void);
/* The slot duonas-boot started ("A", "B"; "none" without it). */
const char *dimg_slot(void);
/* After the daemon stopped: exec duonas-boot when a restart was asked
 * for (returns only when the exec failed). */
int	dimg_reexec_wanted(void);
void	dimg_reexec(void);
/* One line for duonas status (text, ending in a newline), or a JSON
 * object.  Any thread. */
void	dimg_status(struct buf *out, int json);
/* `duonas image ...` commands (before ctl_init). */
void	dimg_ctl_register(void);


#endif
