/*
 * ctl_cmds.c — the table of admin commands, shared by the CLI (which uses
 * it for --help and to reject unknown commands before dialing the daemon)
 * and by the daemon (which binds handlers to the same names).
 * Adding a command: one row here, one ctl_register() in the daemon, one
 * paragraph in man/duonas.8.
 */
#include <string.h>

#include "ctl/ctl.h"

const struct ctl_cmd ctl_cmds[] = {
	{ "status", "[--json]",
	  "Show this head: name, node id, configured role, operating mode and "
	  "HA state, the peer's state, every peer-link path (state, rtt, "
	  "counters), PSO counts and the NFS service.", 1 },
	{ "pso ls", "[--json]",
	  "List persistent shared objects: name, id, flags, version, size, "
	  "lock holder.", 1 },
	{ "pso get", "NAME [--json]",
	  "Print the value of object NAME (with --json: value and metadata).",
	  1 },
	{ "pso create", "NAME [--volatile]",
	  "Create object NAME (persistent unless --volatile: a volatile "
	  "object's value is emptied when the whole cluster starts cold).", 0 },
	{ "pso set", "NAME VALUE [--owner OWNER] [--volatile]",
	  "Write VALUE to object NAME, creating it when missing.  When OWNER "
	  "(default \"cli\") does not hold the object's lock, the lock is "
	  "taken for the write and released after it.  Returns once both "
	  "heads have the write durably (or this head alone when the peer is "
	  "down).", 0 },
	{ "pso rm", "NAME [--owner OWNER]",
	  "Delete object NAME (takes the lock like pso set).", 0 },
	{ "pso lock", "NAME [--owner OWNER] [--timeout MS]",
	  "Take the cluster-wide lock on NAME for OWNER (default \"cli\"), "
	  "waiting up to MS milliseconds (default from duonas.conf).  The lock "
	  "stays held until pso unlock, or until this head dies.", 0 },
	{ "pso unlock", "NAME [--owner OWNER]",
	  "Release the lock on NAME held by OWNER.", 0 },
	{ "pso bench", "NAME [--count N] [--size BYTES]",
	  "Measure lock+write+unlock round trips and replicated writes on "
	  "object NAME from this head; prints key=value lines (microseconds).",
	  0 },
	{ "pso fill", "PREFIX COUNT [--size BYTES]",
	  "Create or overwrite COUNT objects PREFIX0 .. PREFIX<COUNT-1> with "
	  "values of BYTES bytes (default 32): for resync tests and "
	  "benchmarks.", 0 },
	{ "link block", "PATH",
	  "Fault injection for tests: treat peer-link path PATH (0-based) as "
	  "cut until link unblock.", 0 },
	{ "link unblock", "PATH",
	  "Undo link block.", 0 },
	{ "exports", "[--json]",
	  "List the NFS exports this head serves and the clients that mounted "
	  "them.", 1 },
	{ "version", "",
	  "Print the daemon's version.", 0 },
};
const int ctl_ncmds = (int)(sizeof(ctl_cmds) / sizeof(ctl_cmds[0]));

/* Longest match of argv's leading words against the table. */
const struct ctl_cmd *
ctl_cmd_find(int argc, char **argv, int *nwords)
{
	const struct ctl_cmd	*best = NULL;
	int			 bestn = 0;

	for (int i = 0; i < ctl_ncmds; i++) {
		const char	*p = ctl_cmds[i].name;
		int		 w = 0, ok = 1;

		while (*p && ok) {
			size_t n = strcspn(p, " ");
			if (w >= argc || strlen(argv[w]) != n ||
			    strncmp(argv[w], p, n) != 0)
				ok = 0;
			p += n;
			while (*p == ' ')
				p++;
			w++;
		}
		if (ok && w > bestn) {
			best = &ctl_cmds[i];
			bestn = w;
		}
	}
	if (nwords)
		*nwords = bestn;
	return best;
}
