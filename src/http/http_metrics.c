/*
 * http_metrics.c — the /metrics page: every counter and gauge duonasd shows
 * to Prometheus, read from the modules' read-only accessors on the loop
 * thread (docs/metrics.md lists them all; keep the two in step).
 *
 * Families are written whole (HELP, TYPE, then all samples), with the
 * same series on every scrape where possible: every HA state, every
 * NFSv3 procedure, every configured LUN and service IP, so that rates
 * and alerts need no "absent" handling.  Nothing here changes state.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "common/log.h"
#include "ctcm/ctcm.h"
#include "duonasd.h"
#include "duonasd_image.h"
#include "export/nfs.h"
#include "export/smb.h"
#include "ha/ha.h"
#include "ha/ha_fsm.h"
#include "hb/hb.h"
#include "http/http_int.h"
#include "link/link.h"
#include "pso/pso.h"

static void
m_software(struct buf *b)
{
	http_prom_head(b, "duonas_software_info", "gauge",
	    "The running duonasd software: version, and the boot slot it was "
	    "started from (none without duonas-boot).");
	http_prom_sample_u(b, "duonas_software_info", 1, "version",
	    dimg_version(), "slot", dimg_slot(), "head", dd.me->name, NULL);
	http_prom_one_f(b, "duonas_uptime_seconds", "gauge",
	    "Seconds since this duonasd started.",
	    (double)(now_ms() - dd.start_ms) / 1000.0);
}

static void
m_ha(struct buf *b)
{
	const struct ha_fsm	*f = ha_fsm_view();
	long long		 tk, gb;

	http_prom_head(b, "duonas_ha_state", "gauge",
	    "1 for the HA state this head is in, 0 for the others.");
	for (int i = 0; i < HA_STA_COUNT; i++)
		http_prom_sample_u(b, "duonas_ha_state", f->state == (1u << i),
		    "state", ha_fsm_state_name(1u << i), NULL);
	http_prom_one_u(b, "duonas_ha_state_transitions_total", "counter",
	    "HA state changes since start.", f->nchanges);
	http_prom_head(b, "duonas_ha_transitions_total", "counter",
	    "HA state table rows taken, by named transition (NONE: an "
	    "action without a state change).");
	for (int i = 0; i < HA_TR_COUNT; i++)
		http_prom_sample_u(b, "duonas_ha_transitions_total", f->ntr[i],
		    "transition", ha_fsm_tr_name((enum ha_tr)i), NULL);
	http_prom_one_u(b, "duonas_ha_events_ignored_total", "counter",
	    "HA events that had no row in the state table.", f->nignored);
	http_prom_one_u(b, "duonas_ha_actions_failed_total", "counter",
	    "HA state machine actions that failed (the state did not change).",
	    f->nfailed);
	http_prom_one_f(b, "duonas_ha_state_changed_timestamp_seconds", "gauge",
	    "Wall-clock time of the last HA state change (0: none yet).",
	    (double)f->changed_wall_ms / 1000.0);
	/* the durations exist only once measured (no HELP without a
	 * sample) */
	ha_last_durations(&tk, &gb);
	if (tk >= 0) {
		http_prom_head(b, "duonas_ha_last_takeover_seconds", "gauge",
		    "How long this head's last takeover took, from the "
		    "decision to every LUN and IP served.");
		http_prom_sample_f(b, "duonas_ha_last_takeover_seconds",
		    (double)tk / 1000.0, NULL);
	}
	if (gb >= 0) {
		http_prom_head(b, "duonas_ha_last_giveback_seconds", "gauge",
		    "How long this head's last giveback took, from its start "
		    "to the peer's LUNs and IPs released.");
		http_prom_sample_f(b, "duonas_ha_last_giveback_seconds",
		    (double)gb / 1000.0, NULL);
	}
	http_prom_one_u(b, "duonas_ha_peer_alive", "gauge",
	    "1 while the peer head is alive by the heartbeats.",
	    ha_peer_alive() != 0);
}

static void
m_link(struct buf *b)
{
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;
	} fam[] = {
#define F(n, t, h, f)	{ n, t, h, offsetof(struct link_path_stats, f) }
		F("duonas_link_path_frames_sent_total", "counter",
		    "Frames sent on this peer-link path.", sent),
		F("duonas_link_path_frames_received_total", "counter",
		    "Frames received on this peer-link path.", received),
		F("duonas_link_path_sent_bytes_total", "counter",
		    "Bytes sent on this peer-link path.", sent_bytes),
		F("duonas_link_path_received_bytes_total", "counter",
		    "Bytes received on this peer-link path.", recv_bytes),
		F("duonas_link_path_errors_total", "counter",
		    "Failed connects, I/O errors and dead connections on "
		    "this path.", errors),
		F("duonas_link_path_connects_total", "counter",
		    "Times this path was established.", connects),
#undef F
	};
	struct link_path_stats	 s;
	char			 idx[16];

	http_prom_head(b, "duonas_link_path_up", "gauge",
	    "1 while the peer-link path is established.");
	for (int i = 0; link_path_stats(i, &s) == 0; i++) {
		snprintf(idx, sizeof(idx), "%d", i);
		http_prom_sample_u(b, "duonas_link_path_up", s.up, "path", idx,
		    "local", s.local, "remote", s.remote, NULL);
	}
	http_prom_head(b, "duonas_link_path_best", "gauge",
	    "1 for the path the link sends on.");
	for (int i = 0; link_path_stats(i, &s) == 0; i++) {
		snprintf(idx, sizeof(idx), "%d", i);
		http_prom_sample_u(b, "duonas_link_path_best", s.best,
		    "path", idx, NULL);
	}
	http_prom_head(b, "duonas_link_path_rtt_seconds", "gauge",
	    "Smoothed round-trip time of the path (0: not measured yet).");
	for (int i = 0; link_path_stats(i, &s) == 0; i++) {
		snprintf(idx, sizeof(idx), "%d", i);
		http_prom_sample_f(b, "duonas_link_path_rtt_seconds",
		    (double)s.srtt_us / 1e6, "path", idx, NULL);
	}
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		http_prom_head(b, fam[f].name, fam[f].type, fam[f].help);
		for (int i = 0; link_path_stats(i, &s) == 0; i++) {
			uint64_t v;

			memcpy(&v, (const char *)&s + fam[f].off, sizeof(v));
			snprintf(idx, sizeof(idx), "%d", i);
			http_prom_sample_u(b, fam[f].name, v, "path", idx,
			    NULL);
		}
	}
}

static void
m_heartbeat(struct buf *b)
{
	static const struct {
		const char	*name, *type, *help;
		size_t		 off;
	} fam[] = {
#define F(n, t, h, f)	{ n, t, h, offsetof(struct hb_chan, f) }
		F("duonas_heartbeat_peer_sequence", "gauge",
		    "Sequence number of the peer's last credited heartbeat.",
		    seq),
		F("duonas_heartbeat_missing_total", "counter",
		    "Peer heartbeats never received (sequence gaps).", nlost),
		F("duonas_heartbeat_stale_total", "counter",
		    "Peer heartbeats without progress.", nstale),
		F("duonas_heartbeat_jumps_total", "counter",
		    "Sequence gaps too large to be losses (peer restarts).",
		    njump),
		F("duonas_heartbeat_went_bad_total", "counter",
		    "Times the channel went from good to bad.", nbad),
		F("duonas_heartbeat_went_good_total", "counter",
		    "Times the channel went from bad to good.", ngood),
#undef F
	};
	const struct hb_chan	*c;
	char			 ch[16];
	int			 disk;

	http_prom_one_u(b, "duonas_heartbeat_sent_total", "counter",
	    "Heartbeats this head has sent on the link (one per interval, on "
	    "every path).", ha_mon_sent());
#define CHAN(i)	(disk ? "disk" :					\
	    (snprintf(ch, sizeof(ch), "path%d", (i)), ch))
	http_prom_head(b, "duonas_heartbeat_channel_good", "gauge",
	    "1 while the heartbeat channel hears the peer.");
	for (int i = 0; (c = ha_mon_chan(i, &disk)) != NULL; i++)
		http_prom_sample_u(b, "duonas_heartbeat_channel_good",
		    c->state == HB_GOOD, "channel", CHAN(i), NULL);
	for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		http_prom_head(b, fam[f].name, fam[f].type, fam[f].help);
		for (int i = 0; (c = ha_mon_chan(i, &disk)) != NULL; i++) {
			uint64_t v;

			memcpy(&v, (const char *)c + fam[f].off, sizeof(v));
			http_prom_sample_u(b, fam[f].name, v, "channel",
			    CHAN(i), NULL);
		}
	}
#undef CHAN
}

static void
m_placement(struct buf *b)
{
	const struct cfg	*cfg = dd.cfg;
	const struct cfg_vip	*v;
	int			 home, held;
	long long		 ms;

	http_prom_head(b, "duonas_lun_served", "gauge",
	    "1 while this head serves the LUN.");
	for (int i = 0; i < cfg->nluns && ha_lun_where(i) >= 0; i++)
		http_prom_sample_u(b, "duonas_lun_served", ha_lun_serving(i),
		    "lun", cfg->luns[i].name, NULL);
	http_prom_head(b, "duonas_lun_home", "gauge",
	    "1 when this head is the LUN's home head (the home head's name "
	    "in the label).");
	for (int i = 0; i < cfg->nluns && ha_lun_where(i) >= 0; i++)
		http_prom_sample_u(b, "duonas_lun_home", cfg->luns[i].home ==
		    dd.self, "lun", cfg->luns[i].name, "home",
		    cfg->heads[cfg->luns[i].home].name, NULL);
	for (int i = 0, head = 0; i < cfg->nluns && ha_lun_where(i) >= 0;
	    i++) {
		if ((ms = ha_lun_move_pause_ms(i)) < 0)
			continue;
		if (!head++)
			http_prom_head(b, "duonas_lun_move_pause_seconds",
			    "gauge", "How long the LUN was out of service "
			    "across its last coordinated move (handover, "
			    "giveback) seen by this head.");
		http_prom_sample_f(b, "duonas_lun_move_pause_seconds",
		    (double)ms / 1000.0, "lun", cfg->luns[i].name, NULL);
	}
	http_prom_head(b, "duonas_service_ip_held", "gauge",
	    "1 while this head holds the service IP.");
	for (int i = 0; ha_ip_view(i, &v, &home, &held) == 0; i++)
		http_prom_sample_u(b, "duonas_service_ip_held", held != 0,
		    "address", v->addr, "dev", v->dev, "home",
		    cfg->heads[home].name, NULL);
}

static void
m_nfs(struct buf *b)
{
	struct nfs_proc_stats	 s;
	const char		*name;
	char			 le[32];
	uint64_t		 rb, wb, cum;
	int			 conns;

	http_prom_head(b, "duonas_nfs_request_duration_seconds", "histogram",
	    "NFSv3 calls served by this head, by procedure, and how long "
	    "they took.");
	for (uint32_t p = 0; nfs_proc_stats(p, &s, &name) == 0; p++) {
		cum = 0;
		for (int i = 0; i <= NFS_LAT_NBUCKETS; i++) {
			cum += s.bucket[i];
			if (i < NFS_LAT_NBUCKETS)
				snprintf(le, sizeof(le), "%g",
				    (double)nfs_lat_bound_us[i] / 1e6);
			else
				snprintf(le, sizeof(le), "+Inf");
			http_prom_sample_u(b,
			    "duonas_nfs_request_duration_seconds_bucket", cum,
			    "procedure", name, "le", le, NULL);
		}
		http_prom_sample_f(b, "duonas_nfs_request_duration_seconds_sum",
		    (double)s.sum_us / 1e6, "procedure", name, NULL);
		http_prom_sample_u(b,
		    "duonas_nfs_request_duration_seconds_count", cum,
		    "procedure", name, NULL);
	}
	http_prom_head(b, "duonas_nfs_request_errors_total", "counter",
	    "NFSv3 calls answered with an error status, by procedure.");
	for (uint32_t p = 0; nfs_proc_stats(p, &s, &name) == 0; p++)
		http_prom_sample_u(b, "duonas_nfs_request_errors_total",
		    s.errors, "procedure", name, NULL);
	nfs_io_stats(&rb, &wb, &conns);
	http_prom_one_u(b, "duonas_nfs_read_bytes_total", "counter",
	    "File data bytes returned by successful NFSv3 READ calls.", rb);
	http_prom_one_u(b, "duonas_nfs_written_bytes_total", "counter",
	    "File data bytes stored by successful NFSv3 WRITE calls.", wb);
	http_prom_one_u(b, "duonas_nfs_connections", "gauge",
	    "Open NFS (TCP) client connections.", (uint64_t)conns);
}

static void
m_smb(struct buf *b)
{
	int shares, up, restarts;

	smb_stats(&shares, &up, &restarts);
	http_prom_one_u(b, "duonas_smb_shares", "gauge",
	    "SMB shares configured on this head.", (uint64_t)shares);
	http_prom_one_u(b, "duonas_smb_smbd_up", "gauge", "1 while smbd runs.",
	    (uint64_t)up);
	http_prom_one_u(b, "duonas_smb_smbd_restarts_total", "counter",
	    "smbd deaths seen (each is restarted).", (uint64_t)restarts);
}

static void
m_pso(struct buf *b)
{
	struct pso_stats	st;

	/* PSO does not run in MONITOR: its families are left out */
	if (dd.monitor)
		return;
	pso_stats_get(&st);
	http_prom_one_u(b, "duonas_pso_objects", "gauge",
	    "Objects in this head's PSO store.", st.objects);
	http_prom_one_u(b, "duonas_pso_locks_held", "gauge", "PSO locks held.",
	    st.locks_held);
	http_prom_one_u(b, "duonas_pso_lock_waiters", "gauge",
	    "Callers waiting for a PSO lock.", st.lock_waiters);
	http_prom_one_u(b, "duonas_pso_writes_total", "counter",
	    "PSO writes committed by this head.", st.writes);
	http_prom_one_u(b, "duonas_pso_replicated_in_total", "counter",
	    "PSO writes applied from the peer.", st.repl_applied);
	http_prom_one_u(b, "duonas_pso_conflicts_total", "counter",
	    "PSO records resolved by a resync with the peer.", st.conflicts);
	http_prom_one_u(b, "duonas_pso_synced", "gauge",
	    "1 when the PSO store is in sync with the peer.", st.synced != 0);
	http_prom_one_u(b, "duonas_pso_store_ok", "gauge",
	    "1 when this head's PSO store is intact (not damaged, lost or "
	    "behind).", st.store == PSO_STORE_OK);
}

static void
m_config(struct buf *b)
{
	struct ctcm_counters k;

	ctcm_counters_get(&k);
	http_prom_one_u(b, "duonas_config_generation", "gauge",
	    "The newest committed configuration generation this head knows.",
	    k.generation);
	http_prom_one_u(b, "duonas_config_installed_generation", "gauge",
	    "The configuration generation this head runs (0 in MONITOR).",
	    k.installed);
	http_prom_one_u(b, "duonas_config_commits_total", "counter",
	    "Configuration transactions this head committed.", k.commits);
	http_prom_one_u(b, "duonas_config_aborts_total", "counter",
	    "Configuration transactions this head aborted.", k.aborts);
	http_prom_one_u(b, "duonas_config_push_failures_total", "counter",
	    "Committed configurations the peer did not take.", k.push_failures);
	http_prom_one_u(b, "duonas_config_replica_writes_total", "counter",
	    "Configuration replica images written to LUNs by this head.",
	    k.replica_writes);
}

void
http_metrics_build(struct buf *b)
{
	m_software(b);
	m_ha(b);
	m_link(b);
	m_heartbeat(b);
	m_placement(b);
	m_nfs(b);
	m_smb(b);
	m_pso(b);
	m_config(b);
}
