/*
 * vip_nstool.c — drives vip.h from tests/unit/test_vip_ns.sh inside
 * network namespaces (run it with `ip netns exec`).
 *
 *   vip_nstool add|del|has DEV ADDR PREFIX
 *   vip_nstool announce DEV ADDR PREFIX COUNT INTERVAL_MS
 *   vip_nstool capture DEV TIMEOUT_MS MAXFRAMES
 *
 * add/del exit 0 on success; has exits 0 when present, 1 when absent;
 * announce runs vip_announce_start() on a libevent loop until all bursts
 * are out (bounded); capture prints "ready", then one line per ARP frame
 * received on DEV ("arp op=1 sha=.. spa=.. tha=.. tpa=.. len=60") until
 * MAXFRAMES or TIMEOUT_MS.  Exit 2 on usage or system errors.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netpacket/packet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vip/vip.h"

static void
usage(void)
{
	fprintf(stderr, "usage: vip_nstool add|del|has DEV ADDR PREFIX\n"
	    "       vip_nstool announce DEV ADDR PREFIX COUNT INTERVAL_MS\n"
	    "       vip_nstool capture DEV TIMEOUT_MS MAXFRAMES\n");
	exit(2);
}

static void
mkvip(struct cfg_vip *v, const char *dev, const char *addr, const char *pfx)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->dev, sizeof(v->dev), "%s", dev);
	snprintf(v->addr, sizeof(v->addr), "%s", addr);
	v->family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	v->prefix = atoi(pfx);
}

static int
capture(const char *dev, int timeout_ms, int max)
{
	struct sockaddr_ll	sll;
	struct pollfd		pfd;
	uint8_t			f[1600];
	char			spa[16], tpa[16];
	uint64_t		end = now_ms() + (uint64_t)timeout_ms;
	ssize_t			n;
	int			fd, got = 0;

	if ((fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_ARP))) == -1) {
		perror("socket");
		return 2;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETHERTYPE_ARP);
	sll.sll_ifindex = (int)if_nametoindex(dev);
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll,
	    sizeof(sll)) == -1) {
		perror("bind");
		return 2;
	}
	printf("ready\n");
	fflush(stdout);
	while (got < max && now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		if ((n = recv(fd, f, sizeof(f), 0)) < 42)
			continue;
		inet_ntop(AF_INET, f + 28, spa, sizeof(spa));
		inet_ntop(AF_INET, f + 38, tpa, sizeof(tpa));
		printf("arp op=%d sha=%02x:%02x:%02x:%02x:%02x:%02x spa=%s "
		    "tha=%02x:%02x:%02x:%02x:%02x:%02x tpa=%s dst=%02x:%02x:"
		    "%02x:%02x:%02x:%02x len=%zd\n", get_be16(f + 20),
		    f[22], f[23], f[24], f[25], f[26], f[27], spa,
		    f[32], f[33], f[34], f[35], f[36], f[37], tpa,
		    f[0], f[1], f[2], f[3], f[4], f[5], n);
		fflush(stdout);
		got++;
	}
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct cfg_vip		 v;
	struct vip_ann		 ann;
	struct event_base	*base;
	int			 rc;

	log_init("vip_nstool", 1, 0);
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "capture") == 0) {
		if (argc != 5)
			usage();
		return capture(argv[2], atoi(argv[3]), atoi(argv[4]));
	}
	if (argc < 5)
		usage();
	mkvip(&v, argv[2], argv[3], argv[4]);
	if (strcmp(argv[1], "add") == 0 && argc == 5)
		return vip_addr_add(&v) == 0 ? 0 : 2;
	if (strcmp(argv[1], "del") == 0 && argc == 5)
		return vip_addr_del(&v) == 0 ? 0 : 2;
	if (strcmp(argv[1], "has") == 0 && argc == 5) {
		rc = vip_has_addr(&v);
		return rc == 1 ? 0 : rc == 0 ? 1 : 2;
	}
	if (strcmp(argv[1], "announce") == 0 && argc == 7) {
		base = event_base_new();
		memset(&ann, 0, sizeof(ann));
		rc = vip_announce_start(&ann, base, &v, atoi(argv[5]),
		    atoi(argv[6]));
		/* Returns once the last repeat has fired: no events left. */
		event_base_dispatch(base);
		printf("sent %d bursts\n", ann.nsent);
		vip_announce_stop(&ann);
		event_base_free(base);
		return rc == 0 ? 0 : 2;
	}
	usage();
	return 2;
}
