/*
 * The practical limit for a user-space responder on a TAP: read a frame, answer it by swapping
 * headers in place, write it back. ARP requests for our address, ICMP echo requests and UDP
 * datagrams to our address (any port) are answered; everything else is ignored. No fragments,
 * no validation beyond what the swap needs: this is the floor the TypeScript stack is compared to.
 *
 *   responder TAPNAME IPV4 MAC        e.g. responder tap0 10.0.0.2 02:00:00:00:00:02
 *
 * Compiled by bench/stack/main.ts into bench/.cache/ (gitignored).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* RFC 1624 incremental update: checksum after one 16-bit word changes from old to new. */
static uint16_t csum_update(uint16_t csum, uint16_t old, uint16_t new_) {
  uint32_t sum = (uint16_t)~csum + (uint16_t)~old + new_;
  sum = (sum & 0xffff) + (sum >> 16);
  sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum;
}

static void swap(uint8_t *a, uint8_t *b, size_t n) {
  uint8_t t[6];
  memcpy(t, a, n);
  memcpy(a, b, n);
  memcpy(b, t, n);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: responder TAPNAME IPV4 MAC\n");
    return 2;
  }
  uint8_t ip[4], mac[6];
  if (inet_pton(AF_INET, argv[2], ip) != 1 ||
      sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6) {
    fprintf(stderr, "responder: bad address\n");
    return 2;
  }
  int fd = open("/dev/net/tun", O_RDWR);
  if (fd < 0) { perror("responder: /dev/net/tun"); return 1; }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, argv[1], IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) { perror("responder: TUNSETIFF"); return 1; }
  /* Offloads live on the device: an earlier reader's (our stack's TSO and checksum offload)
   * would hand us super-frames and partial checksums, which a header swap cannot answer. */
  ioctl(fd, TUNSETOFFLOAD, 0UL);
  /* No SA_RESTART: a signal must interrupt the blocking read() so the loop sees `stop`. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("ready\n");
  fflush(stdout);

  static uint8_t f[65536];
  unsigned long answered = 0;
  while (!stop) {
    ssize_t n = read(fd, f, sizeof f);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("responder: read");
      break;
    }
    if (n < 14) continue;
    uint16_t type = get16(f + 12);
    if (type == 0x0806 && n >= 42) {
      uint8_t *a = f + 14;
      if (get16(a + 6) != 1 || memcmp(a + 24, ip, 4) != 0) continue;
      put16(a + 6, 2);
      memcpy(a + 18, a + 8, 10); /* tha, tpa = sha, spa */
      memcpy(a + 8, mac, 6);
      memcpy(a + 14, ip, 4);
      memcpy(f, f + 6, 6);
      memcpy(f + 6, mac, 6);
    } else if (type == 0x0800 && n >= 34) {
      uint8_t *h = f + 14;
      size_t hl = (size_t)(h[0] & 15) * 4;
      if (memcmp(h + 16, ip, 4) != 0 || (size_t)n < 14 + hl + 8) continue;
      if ((get16(h + 6) & 0x3fff) != 0) continue; /* fragments: not handled */
      uint8_t *l4 = h + hl;
      if (h[9] == 1 && l4[0] == 8) {
        l4[0] = 0;
        put16(l4 + 2, csum_update(get16(l4 + 2), 0x0800, 0x0000));
      } else if (h[9] == 17) {
        swap(l4, l4 + 2, 2); /* ports; the checksum is a sum, unchanged by swaps */
      } else {
        continue;
      }
      swap(h + 12, h + 16, 4); /* addresses: header checksum unchanged too */
      swap(f, f + 6, 6);
    } else {
      continue;
    }
    if (write(fd, f, (size_t)n) == n) answered++;
  }
  fprintf(stderr, "responder: answered %lu frames\n", answered);
  return 0;
}
