/*
 * lwip-peer: lwIP (Debian's liblwip, raw API, one thread) on a TAP, the C-stack comparison for
 * `npm run bench:stack`.
 *
 *   lwip-peer [--tap NAME] [--ip A.B.C.D] [--source A.B.C.D:PORT:BYTES]
 *
 * Always: answers ARP and ping as --ip (default 10.0.0.2/24) and runs a discard server on TCP
 * port 9 that counts bytes; each connection, when the peer closes it, prints
 *   {"event":"discard","bytes":N,"seconds":S}
 * (seconds from the accept to the peer's FIN). With --source it also connects to the address
 * and sends BYTES zeros as fast as lwIP allows, then prints
 *   {"event":"source","bytes":N,"seconds":S}
 * (seconds from the connection being established to the last byte being acknowledged).
 * Prints {"event":"ready",...} once up; runs until SIGTERM/SIGINT.
 *
 * Why no NO_SYS=1 and no lwipopts.h of our own: Debian's liblwip is compiled with the Hurd's
 * lwipopts.h (NO_SYS=0, TCP_WND=0xFFFF with LWIP_WND_SCALE/TCP_RCV_SCALE=1, TCP_SND_BUF=TCP_WND,
 * TCP_MSS=1460, MEM_LIBC_MALLOC, LWIP_NETIF_TX_SINGLE_PBUF, IPv6 on). Those options fix struct
 * layouts (struct netif, tcp_pcb) and constants inside the library, so our code must be compiled
 * against that same lwipopts.h (from /usr/include/lwip). We use it the NO_SYS=1 way anyway: the
 * tcpip thread is never started, lwip_init() is called directly, and this loop drives input and
 * sys_check_timeouts() itself, so every lwIP call happens on this one thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "tapif.h"

#define DISCARD_PORT 9
/* Frames read per pass before timers run: bounds the time timers can be starved. */
#define RX_BUDGET 256

static volatile sig_atomic_t stopping;
static const unsigned char zeros[0xFFFF];

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

/* ---- discard server ---------------------------------------------------------------------- */

struct discard_conn {
  unsigned long long bytes;
  double started;
};

/* Returns ERR_ABRT when the pcb had to be aborted (lwIP then must not touch it again). */
static err_t discard_report_and_close(struct tcp_pcb *pcb, struct discard_conn *c) {
  printf("{\"event\":\"discard\",\"bytes\":%llu,\"seconds\":%.9f}\n", c->bytes,
         now_seconds() - c->started);
  fflush(stdout);
  free(c);
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_err(pcb, NULL);
  if (tcp_close(pcb) == ERR_OK) return ERR_OK;
  tcp_abort(pcb);
  return ERR_ABRT;
}

static err_t discard_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  struct discard_conn *c = (struct discard_conn *)arg;
  (void)err;
  if (p == NULL) return discard_report_and_close(pcb, c); /* FIN from the peer */
  c->bytes += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void discard_err(void *arg, err_t err) {
  struct discard_conn *c = (struct discard_conn *)arg;
  fprintf(stderr, "lwip-peer: discard connection error %d after %llu bytes\n", err,
          c ? c->bytes : 0ULL);
  free(c); /* the pcb is already gone */
}

static err_t discard_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || pcb == NULL) return ERR_VAL;
  struct discard_conn *c = calloc(1, sizeof *c);
  if (c == NULL) return ERR_MEM;
  c->started = now_seconds();
  tcp_arg(pcb, c);
  tcp_recv(pcb, discard_recv);
  tcp_err(pcb, discard_err);
  return ERR_OK;
}

static int start_discard_server(void) {
  struct tcp_pcb *pcb = tcp_new();
  if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, DISCARD_PORT) != ERR_OK) return -1;
  pcb = tcp_listen(pcb);
  if (pcb == NULL) return -1;
  tcp_accept(pcb, discard_accept);
  return 0;
}

/* ---- source client ----------------------------------------------------------------------- */

static struct {
  struct tcp_pcb *pcb;
  unsigned long long total, queued, acked;
  double started;
  int done;
} src;

static void source_push(struct tcp_pcb *pcb) {
  while (src.queued < src.total) {
    u32_t room = tcp_sndbuf(pcb);
    if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN) break;
    unsigned long long left = src.total - src.queued;
    unsigned long long want = left < room ? left : room;
    u16_t n = (u16_t)(want < sizeof zeros ? want : sizeof zeros);
    u8_t flags = TCP_WRITE_FLAG_COPY | (src.queued + n < src.total ? TCP_WRITE_FLAG_MORE : 0);
    if (tcp_write(pcb, zeros, n, flags) != ERR_OK) break; /* out of segments: wait for ACKs */
    src.queued += n;
  }
  tcp_output(pcb);
}

/* Returns ERR_ABRT when the pcb had to be aborted. */
static err_t source_finish(struct tcp_pcb *pcb) {
  printf("{\"event\":\"source\",\"bytes\":%llu,\"seconds\":%.9f}\n", src.acked,
         now_seconds() - src.started);
  fflush(stdout);
  src.done = 1;
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  src.pcb = NULL;
  if (tcp_close(pcb) == ERR_OK) return ERR_OK;
  tcp_abort(pcb);
  return ERR_ABRT;
}

static err_t source_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)arg;
  src.acked += len;
  if (src.acked >= src.total) return source_finish(pcb);
  source_push(pcb);
  return ERR_OK;
}

static err_t source_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  (void)arg;
  (void)err;
  if (p == NULL) return ERR_OK; /* the sink closing first changes nothing for the count */
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void source_err(void *arg, err_t err) {
  (void)arg;
  fprintf(stderr, "lwip-peer: source connection error %d after %llu of %llu bytes acked\n", err,
          src.acked, src.total);
  printf("{\"event\":\"source-error\",\"err\":%d,\"bytes\":%llu}\n", err, src.acked);
  fflush(stdout);
  src.pcb = NULL;
  src.done = 1;
}

static err_t source_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK) return err;
  src.started = now_seconds();
  tcp_sent(pcb, source_sent);
  if (src.total == 0) return source_finish(pcb);
  source_push(pcb);
  return ERR_OK;
}

static int start_source(const char *spec) {
  char host[64];
  unsigned port;
  unsigned long long bytes;
  ip4_addr_t addr;
  if (sscanf(spec, "%63[0-9.]:%u:%llu", host, &port, &bytes) != 3 || port == 0 || port > 65535 ||
      !ip4addr_aton(host, &addr))
    return -1;
  src.total = bytes;
  src.pcb = tcp_new();
  if (src.pcb == NULL) return -1;
  tcp_recv(src.pcb, source_recv);
  tcp_err(src.pcb, source_err);
  ip_addr_t dst;
  ip_addr_copy_from_ip4(dst, addr);
  return tcp_connect(src.pcb, &dst, (u16_t)port, source_connected) == ERR_OK ? 0 : -1;
}

/* ---- main loop --------------------------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr, "usage: lwip-peer [--tap NAME] [--ip A.B.C.D] [--source A.B.C.D:PORT:BYTES]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *tap_name = "tap0";
  const char *ip = "10.0.0.2";
  const char *source = NULL;
  for (int i = 1; i < argc; i++) {
    if (i + 1 >= argc) usage();
    if (strcmp(argv[i], "--tap") == 0)
      tap_name = argv[++i];
    else if (strcmp(argv[i], "--ip") == 0)
      ip = argv[++i];
    else if (strcmp(argv[i], "--source") == 0)
      source = argv[++i];
    else
      usage();
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  static struct tap_netif tap;
  if (tap_open(&tap, tap_name) < 0) {
    fprintf(stderr, "lwip-peer: opening TAP %s: %s\n", tap_name, strerror(errno));
    return 1;
  }

  lwip_init();

  ip4_addr_t addr, mask, gw;
  if (!ip4addr_aton(ip, &addr)) usage();
  IP4_ADDR(&mask, 255, 255, 255, 0);
  ip4_addr_set_any(&gw);
  static struct netif netif;
  if (netif_add(&netif, &addr, &mask, &gw, &tap, tap_netif_init, ethernet_input) == NULL) {
    fprintf(stderr, "lwip-peer: netif_add failed\n");
    return 1;
  }
  /* Locally administered MAC; the last bytes follow the IP so two peers never clash. */
  const u8_t mac[6] = {0x02, 0x1f, 0x00, ip4_addr2(&addr), ip4_addr3(&addr), ip4_addr4(&addr)};
  memcpy(netif.hwaddr, mac, sizeof mac);
  netif_set_default(&netif);
  netif_set_up(&netif);
  netif_set_link_up(&netif);

  if (start_discard_server() < 0) {
    fprintf(stderr, "lwip-peer: cannot listen on port %d\n", DISCARD_PORT);
    return 1;
  }
  if (source != NULL && start_source(source) < 0) {
    fprintf(stderr, "lwip-peer: bad --source %s (want A.B.C.D:PORT:BYTES)\n", source);
    return 1;
  }
  printf("{\"event\":\"ready\",\"ip\":\"%s\",\"tap\":\"%s\",\"tcp_wnd\":%u,\"tcp_snd_buf\":%u,"
         "\"tcp_mss\":%u,\"wnd_scale\":%d,\"snd_queuelen\":%u}\n",
         ip, tap_name, (unsigned)TCP_WND, (unsigned)TCP_SND_BUF, (unsigned)TCP_MSS,
         LWIP_WND_SCALE ? TCP_RCV_SCALE : -1, (unsigned)TCP_SND_QUEUELEN);
  fflush(stdout);

  struct pollfd pfd = {.fd = tap.fd, .events = POLLIN};
  while (!stopping) {
    sys_check_timeouts();
    u32_t sleep_ms = sys_timeouts_sleeptime();
    int timeout = sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? 1000 : (int)sleep_ms;
    int ready = poll(&pfd, 1, timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      perror("lwip-peer: poll");
      return 1;
    }
    if (ready > 0) {
      if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        fprintf(stderr, "lwip-peer: TAP gone (revents %#x)\n", pfd.revents);
        return 1;
      }
      while (tap_netif_drain(&netif, RX_BUDGET) == RX_BUDGET) sys_check_timeouts();
    }
  }
  fprintf(stderr, "lwip-peer: rx %lu tx %lu frames, rx drops %lu, tx drops %lu\n", tap.rx_frames,
          tap.tx_frames, tap.rx_drops, tap.tx_drops);
  return 0;
}
