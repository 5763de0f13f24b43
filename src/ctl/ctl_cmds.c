/*
 * ctl_cmds.c — the table of admin commands, shared by the CLI (which uses
 * it for --help and to reject unknown commands before dialing the daemon)
 * and by the daemon (which binds handlers to the same names).
 * Adding a command: one row here, one ctl_register() in the daemon, one
 * paragraph in man/duonas.8.  Also the table's pure lookups for the CLI:
 * group words (the leading words of several-word names) and the typo
 * suggestions for an unknown command.
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
	  "declared dead and unreachable).", 0 },
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
	{ "pso reset", "--confirm",
	  "On a head whose PSO store is damaged, lost (the pool says it held "
	  "objects) or behind its peer, and whose peer cannot give the "
	  "objects back: accept that they are gone and serve PSO with what "
	  "this head has.  Refused without --confirm.", 0 },
	{ "locks", "[--json]",
	  "List the cluster byte-range lock table as this head holds it: "
	  "per entry the export id, the file handle (type:hex), protocol, "
	  "client, svid, owner handle, range (start+len, len 0 = to the end "
	  "of the file), type, and whether it is held, grant-pending (a "
	  "granted waiter whose client was not told yet), waiting, or a "
	  "share reservation.  Notes a grace period and a table that is not "
	  "ready yet.", 1 },
	{ "locks clear", "--client NAME | --export ID | --all",
	  "Release every lock, waiter and share reservation of client NAME "
	  "(its NLM caller name), of export ID, or of everybody.  Works on "
	  "either head: the change goes through the lock arbiter and both "
	  "heads have it when the command returns.", 0 },
	{ "locks take", "EXPID HANDLEHEX CLIENT START LEN excl|shared "
	  "[--wait] [--reclaim]",
	  "Test tool: take a lock as client CLIENT (protocol admin) on the "
	  "file (EXPID, kernel handle HANDLEHEX, as hex or TT:hex with the "
	  "handle type as `duonas locks` prints it).  Prints granted, denied "
	  "(with the holder), blocked (--wait: queued as a waiter), grace, "
	  "nolocks or unavailable; exit 0 only when granted.", 0 },
	{ "locks release", "EXPID HANDLEHEX CLIENT START LEN [--cancel]",
	  "Test tool: unlock the range (--cancel: withdraw the waiter for "
	  "exactly that range instead).", 0 },
	{ "locks try", "EXPID HANDLEHEX CLIENT START LEN excl|shared",
	  "Test tool: would the lock be granted?  Reads this head's copy "
	  "only.", 0 },
	{ "locks fill", "EXPID CLIENT N",
	  "Test tool: take N exclusive locks (0+1) as client CLIENT on N "
	  "files of export EXPID (handles 00000000, 00000001, ...), e.g. to "
	  "test copying a large table to a joining head.", 0 },
	{ "locks grant-answer", "done|refused|retry|notmine [CLIENT]",
	  "Test switch: what this head's grant notifier answers for a "
	  "waiter of protocol admin (of CLIENT only, the others answering "
	  "done) that became a lock (default done: confirmed at once; "
	  "refused: the lock is released again; retry: asked again every "
	  "5 s for 60 s; notmine: left to the other head).", 0 },
	{ "locks bench", "[N] [--threads T]",
	  "Measure N (default 2000) lock+unlock pairs from each of T threads "
	  "(default 1), each on a private file, from this head; prints "
	  "key=value lines (microseconds, pairs per second; from the head "
	  "that is not the arbiter each call is one round trip to it).", 0 },
	{ "master move", "[--timeout MS]",
	  "Hand the master role to the peer (DAC(master) only; the peer must "
	  "be alive in DAC(slave)).  No LUN, export or service IP moves: "
	  "only lock arbitration and configuration transactions do.  Waits "
	  "until the peer is DAC(master) (default 10000 ms) and reports how "
	  "long it took.  A configured master that returned after a failover "
	  "stays DAC(slave) until this is run on the acting master.", 0 },
	{ "reset", "[--timeout MS]",
	  "Start the HA state machine of this head again: MONITOR or HALTED "
	  "-> BOOT, e.g. after a configuration conflict was repaired or "
	  "after duonas shutdown.  Waits until the head is dual active "
	  "(DAC), DEGRADED or back in MONITOR (default 30000 ms) and reports "
	  "the state.  Acts on the head it talks to (-s, or -c CONF -n "
	  "HEAD).", 0 },
	{ "shutdown", "[--force] [--timeout MS]",
	  "Orderly stop of this head's service: release its service IPs, "
	  "exports and LUNs so the peer takes them over, then stay HALTED "
	  "(the daemon keeps running for administration; duonas reset brings "
	  "it back).  Refused when the peer is not alive to take over, "
	  "unless --force.  Waits until this head holds nothing any more and "
	  "the peer reserved every LUN (default 30000 ms each) and reports "
	  "both times.  Acts on the head it talks to.", 0 },
	{ "link block", "PATH",
	  "Fault injection for tests: treat peer-link path PATH (0-based) as "
	  "cut until link unblock.", 0 },
	{ "link unblock", "PATH",
	  "Undo link block.", 0 },
	{ "health", "[--json]",
	  "The local health monitor: every watched resource (event loop, "
	  "NFS workers, LUN data areas, service interfaces), its health and "
	  "the last fault with its reason (also part of status).", 1 },
	{ "health fault", "nfs-worker on|off | loop MS",
	  "Fault injection for tests: nfs-worker on makes one NFS worker "
	  "stop in its next call until off; loop MS blocks the event loop "
	  "for MS milliseconds (1..600000).", 0 },
	{ "link lossy", "PATH N M | PATH off",
	  "Fault injection for tests: of every M heartbeat frames received "
	  "on peer-link path PATH, drop the first N (the link itself, its "
	  "connection and every other message are untouched).  off (or N 0) "
	  "stops it.  Counted in status (links: test_lossy).", 0 },
	{ "exports", "[--json]",
	  "List the NFS exports this head serves and the clients that mounted "
	  "them.", 1 },
	/* ---- ctcm commands ---- */
	{ "export ls", "[--json]",
	  "List the exports of the configuration (id, path, options, "
	  "clients).  Works on both heads.", 1 },
	{ "export add", "PATH [--id N] [--clients \"SPEC ...\"] "
	  "[--options OPTS] [--force]",
	  "Export PATH (inside a LUN's data directory) to the clients "
	  "(default *; each \"*\", an address, ADDRESS/PREFIX or a host name, "
	  "optionally with (options)), with default OPTIONS such as rw or "
	  "no_root_squash.  The id defaults to the highest id + 1.  Master "
	  "only: one configuration transaction; both heads apply it at once.  "
	  "A PATH that does not exist (where this head can see it) is refused "
	  "unless --force.",
	  0 },
	{ "export rm", "PATH|ID",
	  "Remove an export (master only).", 0 },
	{ "export set", "PATH|ID [--clients \"SPEC ...\"] [--options OPTS]",
	  "Replace the clients and/or default options of an export (master "
	  "only).", 0 },
	{ "ip ls", "[--json]",
	  "List the service IPs of both heads.", 1 },
	{ "ip add", "HEAD ADDRESS/PREFIX [dev IF | --dev IF] [--force]",
	  "Add a service IP homed on HEAD (master only).  The interface "
	  "defaults to that of HEAD's first service IP.  On the master's own "
	  "head, an interface that does not exist or has IPv6 disabled (for "
	  "an IPv6 address) is refused unless --force.", 0 },
	{ "ip rm", "ADDRESS",
	  "Remove a service IP (master only).", 0 },
	{ "lun ls", "[--json]",
	  "List the LUNs of the pool and which hold configuration replicas.",
	  1 },
	{ "lun add", "NAME --id N --path DEV --home HEAD (--data DIR | "
	  "--mountpoint DIR) [--mode directory|ext4] [--format]",
	  "Add a LUN (master only).  An all-zero LUN is formatted (private "
	  "extent); --format also formats one that holds no valid super "
	  "block; a LUN of another pool is refused.", 0 },
	{ "lun rm", "NAME",
	  "Remove a LUN that holds no export (master only).", 0 },
	{ "smb user ls", "[--json]",
	  "List the SMB users of the configuration: name, uid, state "
	  "(never their password hashes).  Works on both heads.", 1 },
	{ "smb user add", "NAME [--uid N]",
	  "Add SMB user NAME (1-32 characters: lower-case letters, digits, "
	  "'_', '.', '-', starting with a letter or '_'; not a system "
	  "account's name) with uid N (1000-60000; default: the uid of the "
	  "master's local account NAME, else the lowest from 30000 that no "
	  "SMB user and no local account of the master has).  Asks for the password twice on a terminal, else "
	  "reads one line from standard input (printf 'pw\\n' | duonas smb "
	  "user add NAME); only its NT hash is sent to the daemon.  Both "
	  "heads create a local unix account NAME with that uid.  Master "
	  "only: one configuration transaction.", 0 },
	{ "smb user passwd", "NAME",
	  "Set a new password for SMB user NAME (read like smb user add; "
	  "master only).", 0 },
	{ "smb user rm", "NAME",
	  "Remove SMB user NAME (master only).  The local unix account "
	  "stays: files keep its uid.", 0 },
	{ "smb user disable", "NAME",
	  "Keep SMB user NAME but refuse its logins (master only).", 0 },
	{ "smb user enable", "NAME",
	  "Allow a disabled SMB user's logins again (master only).", 0 },
	/* ---- boot software (docs/boot-images.md) ---- */
	{ "image status", "[--json]",
	  "The software of this head: the running image (version, digest, "
	  "slot, good or new, boot attempt), both local slots (state, "
	  "attempts, why bad), the cluster's preferred and previous image, "
	  "the floor, the trusted keys, the peer's software and what the "
	  "image store of each LUN holds.  Works on both heads.", 1 },
	{ "image upload", "FILE [--allow-downgrade]",
	  "Verify the image FILE (signature by a trusted key, every file's "
	  "SHA-256, this machine's architecture, formats this cluster "
	  "speaks), store it on the LUNs' image store and make it the "
	  "preferred image (master only, one configuration transaction).  "
	  "An image older than the floor or the preferred image needs "
	  "--allow-downgrade.  Prints bytes, time and rate.  Nothing "
	  "restarts: duonas image upgrade does that.", 0 },
	{ "image upgrade", "[--timeout MS]",
	  "Lock-step rolling upgrade to the preferred image (master only, "
	  "both heads dual active): the slave hands its LUNs and IPs to "
	  "the master, restarts through duonas-boot into the preferred "
	  "image, comes back and takes them back; it must be good (dual "
	  "active for boot { good-after }) before this head does the same.  "
	  "If a head does not come back good, stops, makes the previous "
	  "image preferred again and says why.  Waits (default 600000 ms) "
	  "for this head to come back too.", 0 },
	{ "image rollback", "[--allow-downgrade]",
	  "Make the previous image preferred again (master only); below the "
	  "floor only with --allow-downgrade.  duonas image upgrade then "
	  "moves the heads to it.", 0 },
	{ "image restart", "[--timeout MS]",
	  "Hand everything this head serves to the peer, then restart it "
	  "through duonas-boot (which installs the preferred image when "
	  "this head does not run it).  Only on a head started by "
	  "duonas-boot.", 0 },
	{ "image key add", "FILE",
	  "Trust the Ed25519 public key in FILE (as written by duonas image "
	  "keygen) for images (master only).", 0 },
	{ "image key rm", "KEYID",
	  "Stop trusting the key KEYID (16 hex digits, from duonas image "
	  "status; master only).  The last key is kept while an image is "
	  "preferred.", 0 },
	{ "image floor", "VERSION [--allow-downgrade]",
	  "Set the anti-rollback floor: images older than VERSION are "
	  "refused (master only; lowering it needs --allow-downgrade).", 0 },
	{ "image keygen", "PREFIX",
	  "Make a new Ed25519 key pair for signing images: PREFIX.key "
	  "(mode 0600; keep it off the heads) and PREFIX.pub.  Runs in the "
	  "duonas command, not in the daemon.", 0 },
	{ "config show", "[--json]",
	  "Show the configuration generation, its checksum, author and "
	  "summary, the state of every array replica and the peer, and the "
	  "files.  In MONITOR, says why.", 1 },
	{ "config history", "[--json]",
	  "List the generations this head keeps (its last 16): generation, "
	  "commit date, author, summary (--json: time_ms since 1970).", 1 },
	{ "config diff", "G1 [G2] [--json]",
	  "The differences between the files of generation G1 and G2 "
	  "(default: the current one) as unified-diff hunks with 3 lines of "
	  "context, per file.", 1 },
	{ "config rollback", "G",
	  "Commit the content of generation G as a new generation (master "
	  "only).", 0 },
	{ "config export", "[FILE] [--json]",
	  "Print the configuration in text form (or write it to FILE, an "
	  "absolute path) for config import.", 1 },
	{ "config import", "FILE",
	  "Commit the configuration in FILE (config export text, or a plain "
	  "duonas.conf) as a new generation.  Master only, except on a head "
	  "in MONITOR, where it restores service: the daemon restarts with "
	  "it.", 0 },
	/* ---- maintenance moves ---- */
	{ "node standby", "HEAD [--timeout MS]",
	  "Drain HEAD: every LUN and service IP it serves moves to the other "
	  "head with the coordinated sequence (served where it is until the "
	  "other head is ready); HEAD stays up and in sync.  Master only; "
	  "both heads dual active.  Prints what moves, waits (default 30000 "
	  "ms) and prints how long each LUN was out of service.", 0 },
	{ "node unstandby", "HEAD [--timeout MS]",
	  "Bring HEAD's own LUNs and service IPs back to it (undo node "
	  "standby, or a LUN handed over after a fault).  Master only.", 0 },
	{ "takeover", "[--timeout MS]",
	  "This head takes over everything the peer serves (node standby of "
	  "the peer), the coordinated way.  Master only.", 0 },
	{ "giveback", "[--timeout MS]",
	  "Every LUN and service IP back to its configured home (clears all "
	  "placement overrides).  Master only.", 0 },
	{ "ip move", "ADDRESS HEAD|home [--timeout MS]",
	  "Move one service IP and what it serves (the LUNs homed on its "
	  "head) to HEAD now, without changing the configured homes (home: "
	  "back).  Master only.", 0 },
	/* ---- HA fault injection (tests) ---- */
	{ "ha fault handover", "LUN",
	  "Tests only: behave as if the local health monitor found LUN "
	  "faulty: hand it (alone) to the peer now.", 0 },
	{ "ha fault surrender", "[--permanent]",
	  "Tests only: behave as if this head were found unhealthy: announce "
	  "FAULT, release everything, go HALTED (RESET after heartbeat { "
	  "fault-reset-delay } unless --permanent).", 0 },
	{ "ha fault blind", "on|off",
	  "Tests only: suspend this head's clock and lease checks and all "
	  "its disk I/O, as if its storage hung inside a paused virtual "
	  "machine: only the peer's kill messages can then stop it.", 0 },
	{ "config fault", "N crash|fail | off",
	  "Tests only: make the N-th next configuration I/O step fail (EIO) "
	  "or crash the daemon right after it.", 0 },
	{ "config bench", "[--count N]",
	  "Measure commits of a one-export change (toggles an option of the "
	  "first export); prints commit_ms_p50/p99 (master only).", 0 },
	/* ---- end ctcm commands ---- */
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

/* ---- group words and typo suggestions (the CLI's, pure) ---------------- */

/* Does name begin with the k words argv[0..k-1], followed by more? */
static int
name_under(const char *name, int k, char **argv)
{
	const char *p = name;

	for (int w = 0; w < k; w++) {
		size_t n = strcspn(p, " ");

		if (strlen(argv[w]) != n || strncmp(argv[w], p, n) != 0)
			return 0;
		p += n;
		if (*p != ' ')
			return 0;
		p++;
	}
	return 1;
}

int
ctl_group_find(int argc, char **argv)
{
	int best = 0;

	for (int i = 0; i < ctl_ncmds; i++)
		for (int k = argc; k > best; k--)
			if (name_under(ctl_cmds[i].name, k, argv)) {
				best = k;
				break;
			}
	return best;
}

int
ctl_group_next(int k, char **argv, int from)
{
	for (int i = from; i < ctl_ncmds; i++)
		if (name_under(ctl_cmds[i].name, k, argv))
			return i;
	return -1;
}

/* Optimal string alignment distance (edits and adjacent swaps) of two
 * short words; words longer than 31 bytes count as far apart. */
static int
word_dist(const char *a, size_t la, const char *b, size_t lb)
{
	int d[32][32];

	if (la > 31 || lb > 31)
		return 99;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int c = a[i - 1] != b[j - 1];
			int v = d[i - 1][j - 1] + c;

			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

/* How far word w is from the table's word t (n bytes): the edit
 * distance, 1 for an abbreviation of 3 or more letters; -1 when too
 * far to be a typo (more than 1 edit for words under 6 letters, 2
 * else). */
static int
typo_dist(const char *w, const char *t, size_t n)
{
	size_t	lw = strlen(w);
	int	d;

	if (lw >= 3 && lw < n && strncmp(w, t, lw) == 0)
		return 1;
	d = word_dist(w, lw, t, n);
	return d <= (n >= 6 ? 2 : 1) ? d : -1;
}

int
ctl_cmd_suggest(int argc, char **argv, const char *const *extra,
    char out[][CTL_NAME_MAX], int max)
{
	int bestk = 0, bestd = 0, nout = 0, ncand = ctl_ncmds;

	for (const char *const *e = extra; e != NULL && *e != NULL; e++)
		ncand++;
	for (int i = 0; i < ncand; i++) {
		const char	*name = i < ctl_ncmds ? ctl_cmds[i].name :
				    extra[i - ctl_ncmds];
		const char	*p = name;
		int		 d = 0;

		/* every leading part of the name ("smb", "smb user", "smb
		 * user add") is a candidate, scored on as many words */
		for (int k = 1; *p != 0 && k <= argc; k++) {
			size_t	n = strcspn(p, " ");
			int	wd = typo_dist(argv[k - 1], p, n);

			if (wd < 0)
				break;
			d += wd;
			p += n;
			if (d == 0)
				goto next;	/* not a typo: look further */
			/* longer matches first, then closer ones */
			if (k < bestk || (k == bestk && d > bestd))
				goto next;
			if (k > bestk || d < bestd)
				nout = 0;
			bestk = k;
			bestd = d;
			if (nout < max) {
				size_t len = (size_t)(p - name);
				int dup = 0;

				if (len >= CTL_NAME_MAX)
					len = CTL_NAME_MAX - 1;
				for (int o = 0; o < nout; o++)
					if (strlen(out[o]) == len &&
					    strncmp(out[o], name, len) == 0)
						dup = 1;
				if (!dup) {
					memcpy(out[nout], name, len);
					out[nout++][len] = 0;
				}
			}
next:
			p += strspn(p, " ");
		}
	}
	return nout;
}
