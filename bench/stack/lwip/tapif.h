/*
 * Our TAP netif driver for lwIP (replaces Debian's bundled tapif, which truncates frames over
 * ~600 bytes). One struct tap_netif per TAP; the caller owns the poll loop.
 */
#ifndef PKT_TAPIF_H
#define PKT_TAPIF_H

#include "lwip/netif.h"

struct tap_netif {
  int fd;                  /* /dev/net/tun, non-blocking, attached to the TAP */
  unsigned long rx_frames; /* frames handed to netif->input */
  unsigned long tx_frames; /* frames written whole */
  unsigned long rx_drops;  /* no pbuf or input refused */
  unsigned long tx_drops;  /* frame too big for the buffer, or short/failed write */
};

/* Opens TAP `name` (IFF_TAP | IFF_NO_PI, non-blocking); returns the fd or -1 (errno set). */
int tap_open(struct tap_netif *tap, const char *name);

/* netif_add init callback: `netif->state` must point at an opened struct tap_netif. */
err_t tap_netif_init(struct netif *netif);

/*
 * Reads up to `budget` frames without blocking and feeds each to netif->input. Returns how many
 * were read (0 when the TAP had nothing).
 */
int tap_netif_drain(struct netif *netif, int budget);

#endif
