/*
 * vip.c — moving a service IP: rtnetlink (libmnl) to add, remove and look
 * up the address, an AF_PACKET socket to announce it.
 *
 * Each netlink request opens its own socket, asks for an ACK and waits at
 * most 2 s, so a call is self-contained and bounded; adding an address
 * that is there, or removing one that is not, is success because takeover
 * and giveback must be safe to repeat.  Announcements go out as raw
 * frames built by garp.c on the interface the address lives on; the
 * repeats run on a libevent timer.  Not here: deciding who owns an IP
 * (the HA controller) and TCP tickle ACKs (tickle.c).
 */
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netpacket/packet.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "common/log.h"
#include "common/util.h"
#include "vip/garp.h"
#include "vip/vip.h"

#define VIP_NL_TIMEOUT_S	2

struct vip_parsed {
	int		family;
	int		alen;
	int		ifindex;
	union {
		struct in_addr	v4;
		struct in6_addr	v6;
	} a;
};

static int
vip_parse(const struct cfg_vip *vip, struct vip_parsed *p)
{
	memset(p, 0, sizeof(*p));
	p->family = vip->family;
	if (vip->family == AF_INET && vip->prefix >= 0 && vip->prefix <= 32)
		p->alen = 4;
	else if (vip->family == AF_INET6 && vip->prefix >= 0 &&
	    vip->prefix <= 128)
		p->alen = 16;
	else {
		log_warnx("vip: %s/%d: bad family or prefix", vip->addr,
		    vip->prefix);
		errno = EINVAL;
		return -1;
	}
	if (inet_pton(vip->family, vip->addr, &p->a) != 1) {
		log_warnx("vip: %s: not an IPv%d address", vip->addr,
		    vip->family == AF_INET ? 4 : 6);
		errno = EINVAL;
		return -1;
	}
	if ((p->ifindex = (int)if_nametoindex(vip->dev)) == 0) {
		char key[128], more[64];

		/* the HA retries every second until the interface comes */
		snprintf(key, sizeof(key), "vip noif %s %s", vip->addr,
		    vip->dev);
		if (log_ratelim_key(key, more, sizeof(more)))
			log_warnx("vip: %s: no such interface %s%s", vip->addr,
			    vip->dev, more);
		errno = ENODEV;
		return -1;
	}
	return 0;
}

static struct mnl_socket *
vip_nl_open(void)
{
	struct mnl_socket	*nl;
	struct timeval		 tv = { VIP_NL_TIMEOUT_S, 0 };

	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL) {
		log_warn("vip: netlink socket");
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1 ||
	    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv,
	    sizeof(tv)) == -1) {
		log_warn("vip: netlink bind");
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

/* Send nlh, run replies through cb until the ACK/DONE; errno on error. */
static int
vip_nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
    void *arg)
{
	uint8_t		buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned	portid = mnl_socket_get_portid(nl);
	uint32_t	seq = nlh->nlmsg_seq;
	ssize_t		n;
	int		rc;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			errno = ETIMEDOUT;
		if (n == -1)
			return -1;
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, cb, arg);
	} while (rc == MNL_CB_OK);
	return rc == MNL_CB_STOP ? 0 : -1;
}

static int
vip_addr_change(const struct cfg_vip *vip, int add)
{
	uint8_t			 buf[MNL_SOCKET_BUFFER_SIZE];
	struct vip_parsed	 p;
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	int			 rc = -1, e;

	if (vip_parse(vip, &p) == -1)
		return -1;
	if ((nl = vip_nl_open()) == NULL)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p.family;
	ifa->ifa_prefixlen = (uint8_t)vip->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)p.ifindex;
	/* A moved address must be usable at once: no DAD delay. */
	if (p.family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, (size_t)p.alen, &p.a);
	mnl_attr_put(nlh, IFA_ADDRESS, (size_t)p.alen, &p.a);

	if (vip_nl_talk(nl, nlh, NULL, NULL) == 0) {
		log_info("vip: %s %s/%d %s %s", add ? "added" : "removed",
		    vip->addr, vip->prefix, add ? "to" : "from", vip->dev);
		rc = 0;
	} else if (add && errno == EEXIST) {
		log_debug("vip: %s/%d already on %s", vip->addr, vip->prefix,
		    vip->dev);
		rc = 0;
	} else if (!add && errno == EADDRNOTAVAIL) {
		log_debug("vip: %s/%d was not on %s", vip->addr, vip->prefix,
		    vip->dev);
		rc = 0;
	} else {
		char key[128], more[64];

		e = errno;
		snprintf(key, sizeof(key), "vip %s %s/%d %s", add ? "add" :
		    "del", vip->addr, vip->prefix, vip->dev);
		if (log_ratelim_key(key, more, sizeof(more)))
			log_warnx("vip: cannot %s %s/%d %s %s: %s%s",
			    add ? "add" : "remove", vip->addr, vip->prefix,
			    add ? "to" : "from", vip->dev, strerror(e), more);
		errno = e;
	}
	mnl_socket_close(nl);
	return rc;
}

int
vip_addr_add(const struct cfg_vip *vip)
{
	return vip_addr_change(vip, 1);
}

int
vip_addr_del(const struct cfg_vip *vip)
{
	return vip_addr_change(vip, 0);
}

struct vip_find {
	const struct vip_parsed	*p;
	int			 found;
};

static int
vip_attr_cb(const struct nlattr *attr, void *arg)
{
	const struct nlattr	**tb = arg;
	int			  type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;	/* newer kernel attribute: skip */
	tb[type] = attr;
	return MNL_CB_OK;
}

static int
vip_find_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct vip_find		*f = arg;
	const struct nlattr	*tb[IFA_MAX + 1] = { NULL };
	struct ifaddrmsg	*ifa;
	int			 i, t[2] = { IFA_LOCAL, IFA_ADDRESS };

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != f->p->family ||
	    ifa->ifa_index != (uint32_t)f->p->ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), vip_attr_cb, tb);
	for (i = 0; i < 2; i++)
		if (tb[t[i]] != NULL && mnl_attr_get_payload_len(tb[t[i]]) ==
		    (uint16_t)f->p->alen && memcmp(mnl_attr_get_payload(
		    tb[t[i]]), &f->p->a, (size_t)f->p->alen) == 0)
			f->found = 1;
	return MNL_CB_OK;
}

int
vip_has_addr(const struct cfg_vip *vip)
{
	uint8_t			 buf[MNL_SOCKET_BUFFER_SIZE];
	struct vip_parsed	 p;
	struct vip_find		 f;
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct ifaddrmsg	*ifa;
	int			 rc = -1;

	if (vip_parse(vip, &p) == -1)
		return -1;
	if ((nl = vip_nl_open()) == NULL)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)p.family;
	f.p = &p;
	f.found = 0;
	if (vip_nl_talk(nl, nlh, vip_find_cb, &f) == 0)
		rc = f.found;
	else
		log_warn("vip: listing addresses of %s", vip->dev);
	mnl_socket_close(nl);
	return rc;
}

int
vip_announce_once(const struct cfg_vip *vip)
{
	struct vip_parsed	p;
	struct sockaddr_ll	sll;
	struct ifreq		ifr;
	uint8_t			mac[6], frame[2][GARP_NA_LEN];
	size_t			len[2];
	int			fd = -1, rc = -1, i, nframes, proto;

	if (vip_parse(vip, &p) == -1)
		return -1;
	proto = p.family == AF_INET ? ETHERTYPE_ARP : ETHERTYPE_IPV6;
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
	    htons((uint16_t)proto))) == -1) {
		log_warn("vip: %s: packet socket", vip->addr);
		goto out;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* vip_parse() found the interface, so the name fits IFNAMSIZ. */
	memcpy(ifr.ifr_name, vip->dev, strnlen(vip->dev, IFNAMSIZ - 1));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) == -1) {
		log_warn("vip: %s: hardware address of %s", vip->addr,
		    vip->dev);
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		log_debug("vip: %s: %s is not Ethernet, nothing to announce",
		    vip->addr, vip->dev);
		rc = 0;
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons((uint16_t)proto);
	sll.sll_ifindex = p.ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) == -1) {
		log_warn("vip: %s: bind to %s", vip->addr, vip->dev);
		goto out;
	}
	if (p.family == AF_INET) {
		len[0] = garp_arp_build(frame[0], sizeof(frame[0]), mac,
		    &p.a.v4, GARP_REQUEST);
		len[1] = garp_arp_build(frame[1], sizeof(frame[1]), mac,
		    &p.a.v4, GARP_REPLY);
		nframes = 2;
	} else {
		len[0] = garp_na_build(frame[0], sizeof(frame[0]), mac,
		    &p.a.v6);
		nframes = 1;
	}
	for (i = 0; i < nframes; i++) {
		if (send(fd, frame[i], len[i], 0) != (ssize_t)len[i]) {
			log_warn("vip: %s: announce on %s", vip->addr,
			    vip->dev);
			goto out;
		}
	}
	rc = 0;
out:
	if (fd != -1) {
		i = errno;
		close(fd);
		errno = i;
	}
	return rc;
}

static void
vip_ann_arm(struct vip_ann *ann)
{
	struct timeval	tv;

	tv.tv_sec = ann->interval_ms / 1000;
	tv.tv_usec = (ann->interval_ms % 1000) * 1000;
	evtimer_add(ann->ev, &tv);
}

static void
vip_ann_timer(evutil_socket_t fd, short what, void *arg)
{
	struct vip_ann	*ann = arg;

	(void)fd;
	(void)what;
	if (ann->left <= 0)
		return;
	ann->left--;
	if (vip_announce_once(&ann->vip) == 0)
		ann->nsent++;
	if (ann->left > 0)
		vip_ann_arm(ann);
}

int
vip_announce_start(struct vip_ann *ann, struct event_base *base,
    const struct cfg_vip *vip, int count, int interval_ms)
{
	int	rc;

	vip_announce_stop(ann);
	ann->vip = *vip;
	ann->interval_ms = interval_ms > 0 ? interval_ms : 1;
	ann->left = count > 0 ? count - 1 : 0;
	ann->nsent = 0;
	if ((ann->ev = evtimer_new(base, vip_ann_timer, ann)) == NULL)
		fatalx("vip: evtimer_new");
	/* The first burst goes out at once: clients and switches should
	 * learn the new owner before they notice the old one is gone. */
	if ((rc = vip_announce_once(vip)) == 0)
		ann->nsent++;
	if (ann->left > 0)
		vip_ann_arm(ann);
	return rc;
}

void
vip_announce_stop(struct vip_ann *ann)
{
	if (ann->ev != NULL) {
		event_free(ann->ev);
		ann->ev = NULL;
	}
	ann->left = 0;
}

int
vip_release(struct vip_ann *ann, const struct cfg_vip *vip)
{
	/* Stop announcing first: an announcement after the peer's would
	 * pull the clients back to us. */
	if (ann != NULL)
		vip_announce_stop(ann);
	return vip_addr_del(vip);
}
