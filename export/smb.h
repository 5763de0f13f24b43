/*
 * smb.h — the SMB service: Samba's smbd serving, for every export with
 * protocols=smb (or nfs:smb) that this head serves, a FUSE mount of the
 * export (export/fuse_fs.h) that the fencing gate and the cluster lock
 * table guard.  duonasd writes smb.conf, starts and supervises smbd,
 * mounts and unmounts the exports as the HA controller attaches and
 * detaches them, and closes the SMB connections of a service address it
 * releases.  docs/smb.md.
 *
 * Two parts: the pure one (smb_conf.c: which exports are SMB shares and
 * the smb.conf text for them, unit-tested with golden text) and the
 * running service (smb_svc.c, registered as a file service in
 * src/services.c).
 */
#ifndef DUONAS_SMB_H
#define DUONAS_SMB_H

#include <stddef.h>
#include <stdint.h>

#include "common/exports.h"

struct buf;
struct cfg;
struct smb_users;

/* One export as an SMB share. */
struct smb_share {
	uint32_t	id;
	char		path[EXPORTS_PATH_MAX];	/* the export's directory */
	char		name[EXPORTS_SHARE_MAX];	/* share name */
	char		users[EXPORTS_USERS_MAX];	/* "a b"; "" every user */
	char		hosts[EXPORTS_MAX_CLIENTS * EXPORTS_SPEC_MAX];
						/* "hosts allow"; "" all */
	int		rw;
	int		nfs_too;	/* also an NFS export: no oplocks */
};

/*
 * The SMB shares of an exports text (the exports with protocols
 * including smb), in file order.  0 with *v (free()) and *n set, or -1
 * with "FILE:LINE: problem" in err.
 */
int	smb_shares_parse(const char *text, size_t len, const char *file,
	    struct smb_share **v, int *n, char *err, size_t errlen);

/* What smb.conf is made of besides the shares. */
struct smb_conf_in {
	const char	*base;		/* <rundir>/smb: Samba's directories */
	const char	*passdb;	/* smbpasswd file */
	const char	*netbios;	/* server name (15 chars are used) */
	int		 port;
};

/* The share's path in smb.conf: the export's FUSE mount point. */
void	smb_share_mountpoint(const char *base, uint32_t id, char *out,
	    size_t outlen);
/*
 * Append the whole smb.conf: a [global] section that keeps every file
 * of Samba under base, then one section per share.
 */
void	smb_conf_render(const struct smb_conf_in *, const struct smb_share *,
	    int n, struct buf *out);

/* ---- the running service (smb_svc.c) ------------------------------ */

/* Register SMB with the file-service interface (fsvc.h); it starts
 * serving at smb_start().  -1 if registration failed. */
int	smb_register(void);
/*
 * Read the exports file and, if it has an SMB export, start smbd (its
 * smb.conf and passdb written under <rundir>/smb).  0 (also when there
 * is nothing to serve), -1 logged when smbd cannot be started.
 */
int	smb_start(const struct cfg *, int self);
/* A new configuration generation: shares, users, smbd reloaded. */
void	smb_reload(const struct cfg *);
/* Write Samba's password database (<rundir>/smb/private/smbpasswd)
 * from the configuration's SMB users.  Any thread. */
void	smb_passdb_write(const struct cfg *, int self,
	    const struct smb_users *);
/* Stop smbd and unmount every export (daemon exit). */
void	smb_shutdown(void);
/* Test fault (`duonas health fault smbd on|off`): kill smbd and keep it
 * from starting again, or let it start.  Any thread. */
void	smb_test_fault(int on);
/* `duonas exports`: the SMB shares and where they are served. */
void	smb_exports_text(struct buf *out);
void	smb_exports_json(struct buf *out);
/* For the metrics page (loop thread): SMB shares configured, smbd
 * running (pid known), smbd restarts since start. */
void	smb_stats(int *shares, int *up, int *restarts);

#endif
