/*
 * UDP echo load generator for the stack benchmark: keeps WINDOW datagrams in flight to HOST:PORT
 * for SECONDS and prints the echoes received per second. Lost datagrams are written off after a
 * 50 ms silence so the window never stalls. Runs in the kernel namespace, against either the
 * TypeScript stack or the C responder, so both see the same client.
 *
 *   udpload HOST PORT SIZE WINDOW SECONDS
 *
 * Compiled by bench/stack/main.ts into bench/.cache/ (gitignored).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: udpload HOST PORT SIZE WINDOW SECONDS\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) return 2;
  int size = atoi(argv[3]), window = atoi(argv[4]);
  double seconds = atof(argv[5]);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) { perror("udpload"); return 1; }
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  static char buf[65536];
  memset(buf, 'x', sizeof buf);
  long sent = 0, received = 0, written_off = 0;
  int inflight = 0;
  double start = now_s(), end = start + seconds;
  struct pollfd p = {.fd = fd, .events = POLLIN};
  while (now_s() < end) {
    while (inflight < window) {
      if (send(fd, buf, (size_t)size, 0) < 0) break;
      sent++;
      inflight++;
    }
    int r = poll(&p, 1, 50);
    if (r == 0) { written_off += inflight; inflight = 0; continue; }
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
      received++;
      if (inflight > 0) inflight--;
    }
  }
  double elapsed = now_s() - start;
  printf("{\"sent\":%ld,\"received\":%ld,\"writtenOff\":%ld,\"seconds\":%.3f,\"rate\":%.0f}\n", sent, received,
         written_off, elapsed, (double)received / elapsed);
  return 0;
}
