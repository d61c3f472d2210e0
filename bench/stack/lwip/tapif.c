/*
 * TAP netif driver for lwIP: whole frames in, whole frames out.
 *
 * Receive copies each frame into one PBUF_RAM pbuf of exactly its length. Not PBUF_POOL: in
 * Debian's liblwip 2.1.3 the PBUF_POOL element is 616 bytes (memp_PBUF_POOL.size = 0x268 in
 * the .so) while pbuf_alloc fills each one as if it held PBUF_POOL_BUFSIZE = 1536 bytes (the
 * value the installed headers give too), so any frame over ~590 bytes overruns the heap block;
 * that is the "Debian's tapif breaks past ~600 bytes" bug (found with valgrind). Transmit writes a single pbuf's
 * payload directly and copies a chain into one buffer with pbuf_copy_partial over tot_len: a TAP
 * takes exactly one frame per write(), so a chain written piece by piece would become several
 * broken frames (or, as in Debian's driver, one truncated frame).
 */
#include "tapif.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "netif/ethernet.h"

/* Largest frame we read or write: MTU 1500 + Ethernet header + one VLAN tag, rounded up. */
#define TAP_FRAME_MAX 1536

static unsigned char rx_buf[TAP_FRAME_MAX];
static unsigned char tx_buf[TAP_FRAME_MAX];

int tap_open(struct tap_netif *tap, const char *name) {
  struct ifreq ifr;
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  /* Offloads live on the device: an earlier reader's (our stack's TSO and checksum offload)
   * would hand lwIP super-frames and partial checksums it cannot take. */
  ioctl(fd, TUNSETOFFLOAD, 0UL);
  memset(tap, 0, sizeof *tap);
  tap->fd = fd;
  return fd;
}

static err_t tap_linkoutput(struct netif *netif, struct pbuf *p) {
  struct tap_netif *tap = (struct tap_netif *)netif->state;
  const void *frame;
  u16_t len = p->tot_len;
  if (p->next == NULL) {
    frame = p->payload;
  } else {
    if (len > sizeof tx_buf || pbuf_copy_partial(p, tx_buf, len, 0) != len) {
      tap->tx_drops++;
      return ERR_BUF;
    }
    frame = tx_buf;
  }
  ssize_t n = write(tap->fd, frame, len);
  if (n != (ssize_t)len) {
    /* A TAP write is all or nothing; EAGAIN/ENOBUFS mean the kernel dropped it (TCP resends). */
    tap->tx_drops++;
    return ERR_OK;
  }
  tap->tx_frames++;
  return ERR_OK;
}

err_t tap_netif_init(struct netif *netif) {
  netif->name[0] = 't';
  netif->name[1] = 'p';
  netif->output = etharp_output;
  netif->linkoutput = tap_linkoutput;
  netif->mtu = 1500;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                 NETIF_FLAG_LINK_UP;
  return ERR_OK;
}

int tap_netif_drain(struct netif *netif, int budget) {
  struct tap_netif *tap = (struct tap_netif *)netif->state;
  int frames = 0;
  while (frames < budget) {
    ssize_t n = read(tap->fd, rx_buf, sizeof rx_buf);
    if (n <= 0) break; /* EAGAIN: drained; other errors surface on the next poll */
    frames++;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    if (p == NULL) {
      tap->rx_drops++;
      continue;
    }
    if (pbuf_take(p, rx_buf, (u16_t)n) != ERR_OK || netif->input(p, netif) != ERR_OK) {
      pbuf_free(p);
      tap->rx_drops++;
      continue;
    }
    tap->rx_frames++;
  }
  return frames;
}
