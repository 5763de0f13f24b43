/*
 * exports.h — the exports file format (duonas-exports(5)): one parser,
 * with the NFS server's limits, for everything that reads the file.  The
 * NFS server loads it with this parser (export/nfs_exports.c), and the
 * configuration transactions validate a change with it (ctcm/), so what
 * validates a change is what loads it.
 *
 * Pure: no file system, no name service.  A host-name client is checked
 * for its syntax only; the NFS server resolves it when it loads the file
 * (exports_client_resolve()).
 */
#ifndef DUONAS_EXPORTS_H
#define DUONAS_EXPORTS_H

#include <stddef.h>
#include <stdint.h>

#define EXPORTS_MAX		64	/* exports in one file */
#define EXPORTS_MAX_CLIENTS	32	/* client specs of one export */
#define EXPORTS_PATH_MAX	256	/* export path, NUL included */
#define EXPORTS_SPEC_MAX	128	/* one client spec as written, NUL incl. */
#define EXPORTS_OPTS_MAX	256	/* a line's default options, NUL incl. */

/* Option flags of a client (the NFS server's NFS_EXP_* are the same). */
#define EXPORTS_F_RW		0x01
#define EXPORTS_F_ROOT_SQUASH	0x02
#define EXPORTS_F_ALL_SQUASH	0x04
#define EXPORTS_F_AUTH_SYS	0x08
#define EXPORTS_F_AUTH_NONE	0x10
#define EXPORTS_F_SECURE	0x20	/* source port < 1024 */
#define EXPORTS_F_DEFAULT	(EXPORTS_F_ROOT_SQUASH | EXPORTS_F_AUTH_SYS)

/* Export options (in the "-options" word only): which file services
 * carry the export, and its SMB share. */
#define EXPORTS_P_NFS		0x01
#define EXPORTS_P_SMB		0x02
#define EXPORTS_SHARE_MAX	81	/* share name, NUL included */
#define EXPORTS_USERS_MAX	256	/* smb_users list, NUL included */
#define EXPORTS_USER_MAX	32	/* one SMB user name (no NUL) */

enum exports_kind {
	EXPORTS_ANY = 0,	/* "*" */
	EXPORTS_ADDR,		/* address or address/prefix: family, addr */
	EXPORTS_NAME,		/* host name in host[]: resolve to use */
};

struct exports_client {
	char		spec[EXPORTS_SPEC_MAX];	/* as written, options too */
	char		host[EXPORTS_SPEC_MAX];	/* the part before '(' */
	int		kind;			/* EXPORTS_ANY/_ADDR/_NAME */
	int		family;			/* _ADDR: AF_INET, AF_INET6 */
	uint8_t		addr[16];
	int		prefix;			/* -1: none given (_NAME) */
	unsigned	flags;			/* EXPORTS_F_* */
	uint32_t	anonuid;
	uint32_t	anongid;
};

struct exports_entry {
	char		path[EXPORTS_PATH_MAX];	/* trailing '/' removed */
	uint32_t	id;
	int		line;			/* first physical line */
	size_t		start, end;		/* bytes of its logical line
						 * in the text, end after the
						 * newline */
	char		options[EXPORTS_OPTS_MAX]; /* the "-..." words, joined
						 * by ',', id=N left out */
	int		nclients;
	struct exports_client clients[EXPORTS_MAX_CLIENTS];
	unsigned	protocols;		/* EXPORTS_P_*, default NFS */
	char		share[EXPORTS_SHARE_MAX]; /* SMB share name: share=
						 * or the path's last part */
	char		smb_users[EXPORTS_USERS_MAX]; /* smb_users=a:b as
						 * "a b"; "" every user */
	int		smb_rw;			/* smb_rw/smb_ro, else the
						 * line's default rw/ro */
};

struct exports_tab {
	struct exports_entry	*v;
	int			 n;
};

/* exports_parse() flags */
#define EXPORTS_ANY_COUNT	0x1	/* no limit on the number of exports
					 * (an editor removing from a file
					 * that a bug let grow too long) */

/*
 * Parse len bytes of exports text.  Every rule and limit of
 * duonas-exports(5): absolute path without . or .., options known, one
 * id 1..4294967295 per export, at least one client, at most
 * EXPORTS_MAX_CLIENTS, EXPORTS_MAX exports, no duplicate path or id,
 * no two SMB exports with one share name (compared without case).
 * Returns 0 with *t filled (free with exports_free), or -1 with
 * "FILE:LINE: problem" in err and *t empty.
 */
int	exports_parse(const char *text, size_t len, const char *file,
	    int flags, struct exports_tab *t, char *err, size_t errlen);
void	exports_free(struct exports_tab *);

/*
 * Resolve an EXPORTS_NAME client (getaddrinfo, may block): sets family,
 * addr and prefix (the full length).  0, or -1 when the name does not
 * resolve.
 */
int	exports_client_resolve(struct exports_client *);

#endif
