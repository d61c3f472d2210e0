/*
 * pktstack_tap: a small N-API addon that gives JavaScript a Linux TAP device without blocking
 * the event loop and without a JS call (or allocation) per frame.
 *
 * Receive: the fd is non-blocking and watched by a uv_poll handle. On each wakeup we read()
 * frames until EAGAIN (at most `slots` of them, so one busy device cannot starve the loop) into
 * ONE preallocated ArrayBuffer of fixed-size slots, write their lengths into a table at the end
 * of that same buffer, and make ONE call into JS with the frame count. JS keeps a Uint8Array and
 * an Int32Array over that buffer and walks the batch.
 *
 * Send: one frame per write() (a writev on a TAP fd makes ONE frame out of all its pieces).
 * When the kernel says EAGAIN the frame is copied into a bounded ring and UV_WRITABLE is
 * enabled until the ring drains; later frames queue behind it so order is kept. Nothing blocks.
 *
 * Offloads: opened with IFF_VNET_HDR, every frame read starts with a virtio_net_hdr and every
 * frame written must too. JS parses and writes that header (specs/virtio.pkt); this file only
 * negotiates it (TUNSETVNETHDRSZ, TUNSETOFFLOAD, falling back flag by flag), makes room for
 * 64 KiB GSO super-frames when TSO was accepted, and writes [header, frame] with one writev.
 *
 * The same machinery can run over any fd that keeps message boundaries (attachFd), e.g. a
 * SOCK_SEQPACKET socketpair: tests use that to exercise batching and backpressure without root,
 * and a privileged parent can hand an already-open TAP fd to an unprivileged child.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Status codes returned by write(); mirrored in src/runtime/link/native.ts. */
enum { TX_SENT = 0, TX_QUEUED = 1, TX_QUEUE_FULL = 2, TX_ERROR = 3, TX_CLOSED = 4, TX_TOO_BIG = 5 };

#define DEFAULT_RX_SLOTS 256
#define DEFAULT_TX_SLOTS 256
#define MAX_SLOTS 65536
#define ETH_OVERHEAD 18 /* 14-byte Ethernet header + one 802.1Q tag */
/*
 * The 10-byte struct virtio_net_hdr: the TAP's default size and what gVisor and wireguard-go
 * use. The 12-byte variant only adds num_buffers, which mergeable receive buffers of a virtio
 * NIC need and a TAP always sets to 1; 10 bytes keep the IP header 4-byte aligned after the
 * 14-byte Ethernet header, too.
 */
#define VNET_HDR_SIZE 10
/* Largest IP datagram a GSO super-frame carries (IPv4 total length / IPv6 payload length). */
#define GSO_MAX_IP 65535
/* With TSO the receive buffer holds this many super-frames (about 2 MiB), not rxSlots of them. */
#define GSO_RX_FRAMES 32
#define MAX_OFFLOAD_ATTEMPTS 6

typedef struct {
  double wakeups;       /* poll callbacks that read at least one frame */
  double rx_frames;
  double rx_bytes;
  double rx_errors;     /* read() failures other than EAGAIN/EINTR */
  double max_batch;
  double tx_direct;     /* frames written straight away */
  double tx_queued;     /* frames that met EAGAIN and went into the ring */
  double tx_flushed;    /* queued frames written later */
  double tx_queue_full; /* frames refused because the ring was full */
  double tx_errors;     /* write() failures other than EAGAIN (frame dropped) */
  double tx_dropped_at_close;
} tap_stats;

typedef struct {
  napi_env env;
  int fd;
  uv_poll_t poll;
  int poll_inited;
  int events;   /* events the poll handle currently watches */
  int reading;  /* whether JS wants frames */
  int closed;   /* close() ran: the fd is closed, no more JS calls */
  int uv_done;  /* the poll handle is fully closed (or was never initialised) */
  int finalized;/* the JS external that points at us was garbage collected */
  int in_cleanup;/* the environment's cleanup hook is closing us */
  napi_async_cleanup_hook_handle cleanup; /* removed once the poll handle is fully closed */
  napi_ref on_batch;
  napi_ref rx_buffer;
  napi_async_context async_ctx;
  uint8_t *rx;
  int32_t *rx_len;
  uint32_t rx_slots;    /* frames read per wakeup at most */
  uint32_t slot_size;   /* room each read needs: the largest frame with its virtio header */
  size_t rx_arena;      /* bytes of frame storage; frames are packed, each 64-byte aligned */
  uint32_t vnet_hdr;    /* 0, or VNET_HDR_SIZE when every frame carries a virtio_net_hdr */
  uint32_t offloads;    /* TUN_F_* flags the kernel accepted */
  uint8_t *tx_hdr;      /* JS writes the next frame's virtio header here (in the rx buffer) */
  uint8_t *txq;
  uint32_t *txq_len;
  uint32_t tx_slots;
  uint32_t tx_head;
  uint32_t tx_count;
  int last_errno;
  tap_stats st;
} tap_t;

/* ---------- small helpers ---------- */

static const char *errno_code(int err) {
  const char *name = strerrorname_np(err);
  return name != NULL ? name : "EUNKNOWN";
}

static napi_value make_error(napi_env env, int err, const char *message) {
  napi_value code, msg, error, num;
  napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_create_int32(env, err, &num);
  napi_set_named_property(env, error, "errno", num);
  return error;
}

static napi_value throw_errno(napi_env env, int err, const char *message) {
  napi_throw(env, make_error(env, err, message));
  return NULL;
}

static napi_value throw_type(napi_env env, const char *message) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return NULL;
}

static int get_prop(napi_env env, napi_value obj, const char *key, napi_value *out, napi_valuetype *type) {
  bool has = false;
  if (napi_has_named_property(env, obj, key, &has) != napi_ok || !has) return 0;
  if (napi_get_named_property(env, obj, key, out) != napi_ok) return 0;
  napi_typeof(env, *out, type);
  return *type != napi_undefined && *type != napi_null;
}

static int get_u32_prop(napi_env env, napi_value obj, const char *key, uint32_t fallback, uint32_t *out) {
  napi_value v;
  napi_valuetype t;
  *out = fallback;
  if (!get_prop(env, obj, key, &v, &t)) return 1;
  if (t != napi_number) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static int get_bool_prop(napi_env env, napi_value obj, const char *key, int fallback) {
  napi_value v;
  napi_valuetype t;
  bool b = false;
  if (!get_prop(env, obj, key, &v, &t) || t != napi_boolean) return fallback;
  napi_get_value_bool(env, v, &b);
  return b;
}

/* Copies a string property into buf; returns 1 when present, 0 when absent, -1 when bad. */
static int get_str_prop(napi_env env, napi_value obj, const char *key, char *buf, size_t size) {
  napi_value v;
  napi_valuetype t;
  size_t len = 0;
  if (!get_prop(env, obj, key, &v, &t)) return 0;
  if (t != napi_string) return -1;
  if (napi_get_value_string_utf8(env, v, buf, size, &len) != napi_ok) return -1;
  return len + 1 < size ? 1 : -1; /* too long to have been copied whole */
}

static tap_t *get_tap(napi_env env, napi_value v) {
  void *p = NULL;
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return (tap_t *)p;
}

/* ---------- network namespaces ---------- */

/*
 * Runs the device set-up inside another network namespace: this thread joins it, creates or
 * attaches the TAP (an fd keeps its device wherever the thread goes next) and comes back.
 * setns() is per thread, so the rest of the process (libuv's thread pool) is not affected.
 */
typedef struct {
  int original;
} netns_guard;

static int netns_enter(const char *netns, netns_guard *g, char *msg, size_t msg_size) {
  char path[512];
  g->original = -1;
  if (netns == NULL || netns[0] == 0) return 0;
  if (strchr(netns, '/') != NULL) snprintf(path, sizeof path, "%s", netns);
  else snprintf(path, sizeof path, "/var/run/netns/%s", netns);
  g->original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (g->original < 0) {
    int err = errno;
    snprintf(msg, msg_size, "cannot remember the current network namespace: %s", strerror(err));
    return err;
  }
  int target = open(path, O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    snprintf(msg, msg_size, "no network namespace %.300s: %s", path, strerror(err));
    close(g->original);
    g->original = -1;
    return err;
  }
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    snprintf(msg, msg_size, "cannot enter network namespace %s: %s%s", netns, strerror(err),
             err == EPERM ? " (needs CAP_SYS_ADMIN)" : "");
    close(target);
    close(g->original);
    g->original = -1;
    return err;
  }
  close(target);
  return 0;
}

static void netns_leave(netns_guard *g) {
  if (g->original < 0) return;
  /* Staying in the wrong namespace would silently misdirect every later socket: fail loudly. */
  if (setns(g->original, CLONE_NEWNET) < 0) napi_fatal_error("pktstack_tap", NAPI_AUTO_LENGTH, "cannot return to the original network namespace", NAPI_AUTO_LENGTH);
  close(g->original);
  g->original = -1;
}

/* ---------- device set-up ---------- */

static int valid_ifname(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= IFNAMSIZ) return 0;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r') return 0;
  }
  return 1;
}

typedef struct {
  uint32_t flags; /* TUN_F_* asked for */
  int err;        /* 0 when accepted */
} offload_attempt;

typedef struct {
  char name[IFNAMSIZ];
  uint32_t mtu_wanted; /* 0 = leave as is */
  int bring_up;
  int offload;         /* ask for IFF_VNET_HDR and offloads */
  int fd;
  double kernel_mac;
  uint32_t mtu;
  uint32_t vnet_hdr;   /* results of the negotiation */
  uint32_t offloads;
  uint32_t n_attempts;
  offload_attempt attempts[MAX_OFFLOAD_ATTEMPTS];
} tap_setup;

static int interface_exists(const char *name) {
  return if_nametoindex(name) != 0;
}

/* What TUNSETOFFLOAD is asked for, best first: each EINVAL drops the newest feature. */
static const uint32_t OFFLOAD_LADDER[] = {
#if defined(TUN_F_USO4) && defined(TUN_F_USO6)
  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_USO4 | TUN_F_USO6,
#endif
  TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
  TUN_F_CSUM,
};

static void record_attempt(tap_setup *s, uint32_t flags, int err) {
  if (s->n_attempts < MAX_OFFLOAD_ATTEMPTS) {
    s->attempts[s->n_attempts].flags = flags;
    s->attempts[s->n_attempts].err = err;
    s->n_attempts++;
  }
}

/*
 * On an fd attached with IFF_VNET_HDR: the header size, little-endian fields, then the best
 * offload set the kernel takes. Returns 1 when some offload was accepted, 0 when none was (the
 * caller then reopens without IFF_VNET_HDR, so frames are exactly as without offloads).
 */
static int negotiate_offloads(int fd, tap_setup *s) {
  int size = VNET_HDR_SIZE;
  if (ioctl(fd, TUNSETVNETHDRSZ, &size) < 0) {
    record_attempt(s, 0, errno);
    return 0;
  }
  /* Little-endian header fields on any host (virtio 1.0); x86 is little-endian already, so a
   * kernel without the ioctl changes nothing there. */
  int le = 1;
  if (ioctl(fd, TUNSETVNETLE, &le) < 0) {
    uint16_t probe = 1;
    if (*(uint8_t *)&probe != 1) {
      record_attempt(s, 0, errno);
      return 0;
    }
  }
  for (size_t i = 0; i < sizeof OFFLOAD_LADDER / sizeof OFFLOAD_LADDER[0]; i++) {
    uint32_t flags = OFFLOAD_LADDER[i];
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)flags) == 0) {
      record_attempt(s, flags, 0);
      s->offloads = flags;
      s->vnet_hdr = VNET_HDR_SIZE;
      return 1;
    }
    int err = errno;
    record_attempt(s, flags, err);
    if (err != EINVAL) break;
  }
  return 0;
}

/* open() of /dev/net/tun and TUNSETIFF with `flags`. Returns the fd or -errno (msg set). */
static int tap_attach(tap_setup *s, short flags, struct ifreq *ifr, char *msg, size_t msg_size) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENODEV || err == ENXIO)
      snprintf(msg, msg_size, "no /dev/net/tun: the tun kernel module is missing (modprobe tun)");
    else if (err == EPERM || err == EACCES)
      snprintf(msg, msg_size, "not permitted to open a TAP device: run as root or with CAP_NET_ADMIN, or use `pktstack sandbox`");
    else
      snprintf(msg, msg_size, "cannot open /dev/net/tun: %s", strerror(err));
    return -err;
  }
  memset(ifr, 0, sizeof *ifr);
  ifr->ifr_flags = flags;
  memcpy(ifr->ifr_name, s->name, strlen(s->name));
  int existed = interface_exists(s->name);
  if (ioctl(fd, TUNSETIFF, ifr) < 0) {
    int err = errno;
    if (err == EBUSY)
      snprintf(msg, msg_size, "interface %s is busy: another process is attached to it", s->name);
    else if (err == EPERM || err == EACCES)
      snprintf(msg, msg_size, "not permitted to %s TAP device %s: run as root or with CAP_NET_ADMIN, or use `pktstack sandbox`",
               existed ? "attach to" : "create", s->name);
    else if (err == EINVAL && existed)
      snprintf(msg, msg_size, "cannot attach to %s: it exists but is not a single-queue TAP device", s->name);
    else
      snprintf(msg, msg_size, "cannot create or attach TAP device %s: %s", s->name, strerror(err));
    close(fd);
    return -err;
  }
  return fd;
}

/* Opens /dev/net/tun and attaches to (or creates) the named TAP. Returns 0 or an errno. */
static int tap_open_device(tap_setup *s, char *msg, size_t msg_size) {
  struct ifreq ifr;
  int fd = -1;
  if (s->offload) {
    fd = tap_attach(s, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, &ifr, msg, msg_size);
    if (fd == -EINVAL) record_attempt(s, 0, EINVAL); /* no IFF_VNET_HDR: try without */
    else if (fd < 0) return -fd;
    else if (!negotiate_offloads(fd, s)) {
      /* Closing drops a device we just created; attaching again recreates it, as plain. */
      close(fd);
      fd = -1;
    }
  }
  if (fd < 0) {
    s->vnet_hdr = 0;
    s->offloads = 0;
    fd = tap_attach(s, IFF_TAP | IFF_NO_PI, &ifr, msg, msg_size);
    if (fd < 0) return -fd;
    /* The offloads live on the device, not the fd: a persistent TAP keeps those of an earlier
     * reader, and would hand super-frames and partial checksums to one that takes no header. */
    ioctl(fd, TUNSETOFFLOAD, 0UL);
  }
  /* The kernel may have filled in a pattern such as "tap%d". */
  memcpy(s->name, ifr.ifr_name, IFNAMSIZ);
  s->name[IFNAMSIZ - 1] = 0;

  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
    int err = errno;
    snprintf(msg, msg_size, "cannot read the MAC address of %s: %s", s->name, strerror(err));
    close(fd);
    return err;
  }
  double mac = 0;
  for (int i = 0; i < 6; i++) mac = mac * 256 + (uint8_t)ifr.ifr_hwaddr.sa_data[i];
  s->kernel_mac = mac;

  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    int err = errno;
    snprintf(msg, msg_size, "cannot open a control socket: %s", strerror(err));
    close(fd);
    return err;
  }
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, s->name, IFNAMSIZ);
  if (ioctl(sock, SIOCGIFMTU, &ifr) < 0) {
    int err = errno;
    snprintf(msg, msg_size, "cannot read the MTU of %s: %s", s->name, strerror(err));
    close(sock);
    close(fd);
    return err;
  }
  /* Set it only when it differs: setting needs CAP_NET_ADMIN, which an owner of a persistent
   * TAP may not have. */
  if (s->mtu_wanted != 0 && (uint32_t)ifr.ifr_mtu != s->mtu_wanted) {
    ifr.ifr_mtu = (int)s->mtu_wanted;
    if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
      int err = errno;
      snprintf(msg, msg_size, "cannot set the MTU of %s to %u: %s", s->name, s->mtu_wanted, strerror(err));
      close(sock);
      close(fd);
      return err;
    }
  }
  s->mtu = (uint32_t)ifr.ifr_mtu;
  if (s->bring_up) {
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 ||
        (!(ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &ifr) < 0))) {
      int err = errno;
      snprintf(msg, msg_size, "cannot bring %s up: %s%s", s->name, strerror(err),
               err == EPERM ? " (needs CAP_NET_ADMIN, or bring it up beforehand)" : "");
      close(sock);
      close(fd);
      return err;
    }
  }
  close(sock);
  s->fd = fd;
  return 0;
}

/* ---------- the poll loop ---------- */

static void on_poll(uv_poll_t *handle, int status, int events);

static void free_if_done(tap_t *t) {
  if (t->uv_done && t->finalized) {
    free(t->txq);
    free(t->txq_len);
    free(t);
  }
}

static void on_poll_closed(uv_handle_t *handle) {
  tap_t *t = (tap_t *)handle->data;
  t->uv_done = 1;
  /* Only now may the environment finish tearing down (and unload this library): the hook
   * stays registered until no callback into this code is pending. */
  if (t->cleanup != NULL) napi_remove_async_cleanup_hook(t->cleanup);
  t->cleanup = NULL;
  free_if_done(t);
}

static void update_events(tap_t *t) {
  if (t->closed) return;
  int want = (t->reading ? UV_READABLE : 0) | (t->tx_count > 0 ? UV_WRITABLE : 0);
  if (want == t->events) return;
  if (want == 0) uv_poll_stop(&t->poll);
  else uv_poll_start(&t->poll, want, on_poll);
  t->events = want;
}

/* Calls JS with `count` (frames in the batch, or a negative errno for a fatal device error). */
static void call_js(tap_t *t, int32_t count) {
  napi_env env = t->env;
  napi_handle_scope scope;
  napi_value fn, recv, arg, result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  if (napi_get_reference_value(env, t->on_batch, &fn) == napi_ok && fn != NULL) {
    /* napi_make_callback wants an object as `this` (undefined is refused). */
    napi_get_global(env, &recv);
    napi_create_int32(env, count, &arg);
    napi_make_callback(env, t->async_ctx, recv, fn, 1, &arg, &result);
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      /* An exception from the receiver goes to process 'uncaughtException', like any callback. */
      napi_value exc;
      napi_get_and_clear_last_exception(env, &exc);
      napi_fatal_exception(env, exc);
    }
  }
  napi_close_handle_scope(env, scope);
}

static int is_transient(int err) {
  return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

static void flush_tx(tap_t *t) {
  while (t->tx_count > 0) {
    uint32_t i = t->tx_head;
    ssize_t r = write(t->fd, t->txq + (size_t)i * t->slot_size, t->txq_len[i]);
    if (r < 0) {
      if (errno == EINTR) continue;
      if (is_transient(errno)) break;
      t->st.tx_errors++;
      t->last_errno = errno;
    } else {
      t->st.tx_flushed++;
    }
    t->tx_head = (t->tx_head + 1) % t->tx_slots;
    t->tx_count--;
  }
  update_events(t);
}

static void stop_reading_fatal(tap_t *t, int err) {
  t->last_errno = err;
  t->reading = 0;
  update_events(t);
  call_js(t, -err);
}

static void drain_rx(tap_t *t) {
  uint32_t n = 0;
  size_t used = 0;
  int fatal = 0;
  /* Frames are packed one after the other (64-byte aligned); a read needs room for the
   * largest frame, since a TAP cuts a frame longer than the buffer given. */
  while (n < t->rx_slots && t->rx_arena - used >= t->slot_size) {
    ssize_t r = read(t->fd, t->rx + used, t->slot_size);
    if (r > 0) {
      t->rx_len[2 * n] = (int32_t)used;
      t->rx_len[2 * n + 1] = (int32_t)r;
      n++;
      used += ((size_t)r + 63) & ~(size_t)63;
      t->st.rx_bytes += (double)r;
      continue;
    }
    if (r == 0) { /* end of stream: only a socket peer can do that; a TAP never returns 0 */
      fatal = EPIPE;
      break;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) break;
    t->st.rx_errors++;
    t->last_errno = err;
    /* The device went away (interface deleted) or the fd is broken: stop, or we would spin. */
    if (err == EBADFD || err == EBADF || err == EIO || err == ECONNRESET || err == ENOTCONN) {
      fatal = err;
      break;
    }
  }
  if (n > 0) {
    t->st.wakeups++;
    t->st.rx_frames += n;
    if (n > t->st.max_batch) t->st.max_batch = n;
    call_js(t, (int32_t)n);
  }
  if (fatal && !t->closed) stop_reading_fatal(t, fatal);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  tap_t *t = (tap_t *)handle->data;
  if (t->closed) return;
  if (status < 0) {
    stop_reading_fatal(t, -status);
    return;
  }
  if ((events & UV_WRITABLE) && t->tx_count > 0) flush_tx(t);
  if (t->closed) return;
  if ((events & UV_READABLE) && t->reading) drain_rx(t);
}

/* ---------- handle creation shared by open() and attachFd() ---------- */

static void finalize_tap(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  tap_t *t = (tap_t *)data;
  t->finalized = 1;
  free_if_done(t);
}

static void close_tap(tap_t *t);

/*
 * The environment is going away (worker end, process exit): release the device. An async hook,
 * because the uv_close callback must run before Node unloads this library; on_poll_closed
 * signals completion by removing the hook.
 */
static void cleanup_hook(napi_async_cleanup_hook_handle handle, void *arg) {
  tap_t *t = (tap_t *)arg;
  t->cleanup = handle;
  t->in_cleanup = 1;
  close_tap(t);
}

/*
 * Builds the tap_t around an open fd and the JS object describing it. On failure closes the fd
 * and throws.
 */
static napi_value wrap_fd(napi_env env, int fd, napi_value opts, napi_value on_batch, uint32_t mtu,
                          double kernel_mac, const char *name, uint32_t vnet_hdr, uint32_t offloads,
                          const tap_setup *negotiated) {
  uint32_t rx_slots, tx_slots, slot_size;
  if (!get_u32_prop(env, opts, "rxSlots", DEFAULT_RX_SLOTS, &rx_slots) ||
      !get_u32_prop(env, opts, "txSlots", DEFAULT_TX_SLOTS, &tx_slots) || rx_slots == 0 ||
      tx_slots == 0 || rx_slots > MAX_SLOTS || tx_slots > MAX_SLOTS) {
    close(fd);
    return throw_type(env, "rxSlots and txSlots must be integers from 1 to 65536");
  }
  /* Room for the largest frame the MTU allows, cache-line rounded, and never under 2 KiB; with
   * TSO, for a 64 KiB super-frame. */
  int gso = (offloads & (TUN_F_TSO4 | TUN_F_TSO6)) != 0;
  slot_size = ((gso ? GSO_MAX_IP : mtu) + ETH_OVERHEAD + vnet_hdr + 63) & ~63u;
  if (slot_size < 2048) slot_size = 2048;
  /* Without TSO every slot fits every frame, as before; with it the storage holds
   * GSO_RX_FRAMES super-frames or rxSlots small ones, whichever the batch meets first. */
  size_t small = ((size_t)mtu + ETH_OVERHEAD + vnet_hdr + 63) & ~(size_t)63;
  size_t arena = gso ? (size_t)GSO_RX_FRAMES * slot_size : (size_t)rx_slots * slot_size;
  if (gso && arena < (size_t)rx_slots * small + slot_size) arena = (size_t)rx_slots * small + slot_size;

  tap_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "out of memory");
  }
  t->env = env;
  t->fd = fd;
  t->rx_slots = rx_slots;
  t->tx_slots = tx_slots;
  t->slot_size = slot_size;
  t->rx_arena = arena;
  t->vnet_hdr = vnet_hdr;
  t->offloads = offloads;
  t->txq = malloc((size_t)tx_slots * slot_size);
  t->txq_len = malloc((size_t)tx_slots * sizeof(uint32_t));
  t->uv_done = 1; /* until the poll handle exists */

  napi_value buffer, external, result, v, resource, resource_name;
  void *data = NULL;
  /* Frame storage, then (offset, length) per frame, then the next frame's virtio header. */
  size_t rx_bytes = arena + (size_t)rx_slots * 2 * sizeof(int32_t) + 64;
  if (t->txq == NULL || t->txq_len == NULL || napi_create_arraybuffer(env, rx_bytes, &data, &buffer) != napi_ok) {
    close(fd);
    t->finalized = 1;
    free_if_done(t);
    return throw_errno(env, ENOMEM, "cannot allocate the frame buffers");
  }
  t->rx = (uint8_t *)data;
  /* The frame table sits after the frames, in the same ArrayBuffer (JS views both). */
  t->rx_len = (int32_t *)(t->rx + arena);
  t->tx_hdr = t->rx + arena + (size_t)rx_slots * 2 * sizeof(int32_t);
  napi_create_reference(env, buffer, 1, &t->rx_buffer);
  napi_create_reference(env, on_batch, 1, &t->on_batch);
  napi_create_object(env, &resource);
  napi_create_string_utf8(env, "pktstack:tap", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, resource, resource_name, &t->async_ctx);

  uv_loop_t *loop = NULL;
  napi_get_uv_event_loop(env, &loop);
  int rc = uv_poll_init(loop, &t->poll, fd);
  if (rc < 0) {
    close(fd);
    t->fd = -1;
    t->closed = 1;
    napi_delete_reference(env, t->rx_buffer);
    napi_delete_reference(env, t->on_batch);
    napi_async_destroy(env, t->async_ctx);
    t->finalized = 1;
    free_if_done(t);
    return throw_errno(env, -rc, "cannot watch the device with uv_poll");
  }
  t->poll.data = t;
  t->poll_inited = 1;
  t->uv_done = 0;
  t->reading = 1;
  update_events(t);
  napi_add_async_cleanup_hook(env, cleanup_hook, t, &t->cleanup);

  napi_create_external(env, t, finalize_tap, NULL, &external);
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "handle", external);
  napi_set_named_property(env, result, "buffer", buffer);
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, result, "name", v);
  napi_create_double(env, kernel_mac, &v);
  napi_set_named_property(env, result, "kernelMac", v);
  napi_create_uint32(env, mtu, &v);
  napi_set_named_property(env, result, "mtu", v);
  napi_create_uint32(env, rx_slots, &v);
  napi_set_named_property(env, result, "rxSlots", v);
  napi_create_uint32(env, slot_size, &v);
  napi_set_named_property(env, result, "slotSize", v);
  napi_create_double(env, (double)arena, &v);
  napi_set_named_property(env, result, "rxBytes", v);
  napi_create_double(env, (double)(arena + (size_t)rx_slots * 2 * sizeof(int32_t)), &v);
  napi_set_named_property(env, result, "txHeaderOffset", v);
  napi_create_uint32(env, vnet_hdr, &v);
  napi_set_named_property(env, result, "vnetHdrSize", v);
  napi_create_uint32(env, offloads, &v);
  napi_set_named_property(env, result, "offloadFlags", v);
  napi_value attempts;
  uint32_t n_attempts = negotiated != NULL ? negotiated->n_attempts : 0;
  napi_create_array_with_length(env, n_attempts, &attempts);
  for (uint32_t i = 0; i < n_attempts; i++) {
    napi_value a;
    napi_create_object(env, &a);
    napi_create_uint32(env, negotiated->attempts[i].flags, &v);
    napi_set_named_property(env, a, "flags", v);
    napi_create_string_utf8(env, negotiated->attempts[i].err == 0 ? "" : errno_code(negotiated->attempts[i].err), NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, a, "error", v);
    napi_set_element(env, attempts, i, a);
  }
  napi_set_named_property(env, result, "offloadAttempts", attempts);
  napi_create_uint32(env, tx_slots, &v);
  napi_set_named_property(env, result, "txSlots", v);
  napi_create_int32(env, fd, &v);
  napi_set_named_property(env, result, "fd", v);
  return result;
}

static int get_opts_and_callback(napi_env env, napi_callback_info info, napi_value *opts, napi_value *fn) {
  size_t argc = 2;
  napi_value argv[2];
  napi_valuetype t0, t1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) return 0;
  napi_typeof(env, argv[0], &t0);
  napi_typeof(env, argv[1], &t1);
  if (t0 != napi_object || t1 != napi_function) return 0;
  *opts = argv[0];
  *fn = argv[1];
  return 1;
}

/* open({name, netns?, mtu?, up?, rxSlots?, txSlots?, offload?}, onBatch) */
static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value opts, fn;
  char netns[256], msg[512];
  tap_setup s;
  memset(&s, 0, sizeof s);
  if (!get_opts_and_callback(env, info, &opts, &fn)) return throw_type(env, "open(options, onBatch) expects an object and a function");
  char name[64];
  if (get_str_prop(env, opts, "name", name, sizeof name) != 1 || !valid_ifname(name)) {
    snprintf(msg, sizeof msg, "invalid interface name: 1 to %d characters, none of '/', ':' or whitespace", IFNAMSIZ - 1);
    return throw_errno(env, EINVAL, msg);
  }
  memcpy(s.name, name, strlen(name) + 1);
  int has_ns = get_str_prop(env, opts, "netns", netns, sizeof netns);
  if (has_ns < 0) return throw_type(env, "netns must be a namespace name or a path");
  if (!get_u32_prop(env, opts, "mtu", 0, &s.mtu_wanted) || (s.mtu_wanted != 0 && (s.mtu_wanted < 68 || s.mtu_wanted > 65521)))
    return throw_type(env, "mtu must be an integer from 68 to 65521");
  s.bring_up = get_bool_prop(env, opts, "up", 1);
  s.offload = get_bool_prop(env, opts, "offload", 0);

  netns_guard g;
  int err = netns_enter(has_ns == 1 ? netns : NULL, &g, msg, sizeof msg);
  if (err != 0) return throw_errno(env, err, msg);
  err = tap_open_device(&s, msg, sizeof msg);
  netns_leave(&g);
  if (err != 0) return throw_errno(env, err, msg);
  return wrap_fd(env, s.fd, opts, fn, s.mtu, s.kernel_mac, s.name, s.vnet_hdr, s.offloads, &s);
}

/*
 * attachFd({fd, mtu, rxSlots?, txSlots?, vnetHdr?, offloadFlags?}, onBatch): takes ownership of
 * fd. vnetHdr: its frames carry a virtio_net_hdr (a TAP opened with IFF_VNET_HDR elsewhere, or
 * a socketpair standing in for one), with offloadFlags (TUN_F_*) as negotiated there.
 */
static napi_value js_attach_fd(napi_env env, napi_callback_info info) {
  napi_value opts, fn;
  uint32_t fd, mtu, offloads;
  if (!get_opts_and_callback(env, info, &opts, &fn)) return throw_type(env, "attachFd(options, onBatch) expects an object and a function");
  if (!get_u32_prop(env, opts, "fd", UINT32_MAX, &fd) || fd > INT32_MAX) return throw_type(env, "fd must be a non-negative integer");
  if (!get_u32_prop(env, opts, "mtu", 1500, &mtu) || mtu < 68 || mtu > 65521) return throw_type(env, "mtu must be an integer from 68 to 65521");
  int vnet = get_bool_prop(env, opts, "vnetHdr", 0);
  if (!get_u32_prop(env, opts, "offloadFlags", 0, &offloads) || (!vnet && offloads != 0))
    return throw_type(env, "offloadFlags must be TUN_F_* flags, and needs vnetHdr");
  int flags = fcntl((int)fd, F_GETFL);
  if (flags < 0 || fcntl((int)fd, F_SETFL, flags | O_NONBLOCK) < 0) return throw_errno(env, errno, "cannot make the fd non-blocking");
  return wrap_fd(env, (int)fd, opts, fn, mtu, 0, "fd", vnet ? VNET_HDR_SIZE : 0, offloads, NULL);
}

/* write(handle, bytes, offset, length) -> TX_* status */
static napi_value js_write(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], out;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  tap_t *t = argc == 4 ? get_tap(env, argv[0]) : NULL;
  if (t == NULL) return throw_type(env, "write(handle, bytes, offset, length)");
  napi_typedarray_type type;
  size_t count;
  void *data;
  int32_t offset, length;
  if (napi_get_typedarray_info(env, argv[1], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_uint8_array ||
      napi_get_value_int32(env, argv[2], &offset) != napi_ok || napi_get_value_int32(env, argv[3], &length) != napi_ok ||
      offset < 0 || length < 0 || (size_t)offset + (size_t)length > count)
    return throw_type(env, "write: bytes must be a Uint8Array holding offset..offset+length");
  int status;
  const uint8_t *frame = (const uint8_t *)data + offset;
  if (t->closed) {
    status = TX_CLOSED;
  } else if ((uint32_t)length + t->vnet_hdr > t->slot_size) {
    status = TX_TOO_BIG;
  } else {
    if (t->tx_count > 0) flush_tx(t);
    status = -1;
    /* With a virtio header: [the header JS wrote into tx_hdr, the frame] as one frame. */
    struct iovec iov[2] = {
      { .iov_base = t->tx_hdr, .iov_len = t->vnet_hdr },
      { .iov_base = (void *)frame, .iov_len = (size_t)length },
    };
    int first = t->vnet_hdr == 0 ? 1 : 0;
    if (t->tx_count == 0) {
      for (;;) {
        ssize_t r = writev(t->fd, iov + first, 2 - first);
        if (r >= 0) {
          t->st.tx_direct++;
          status = TX_SENT;
        } else if (errno == EINTR) {
          continue;
        } else if (!is_transient(errno)) {
          t->st.tx_errors++;
          t->last_errno = errno;
          status = TX_ERROR;
        }
        break;
      }
    }
    if (status < 0) { /* queue behind earlier frames, or the kernel said "not now" */
      if (t->tx_count == t->tx_slots) {
        t->st.tx_queue_full++;
        status = TX_QUEUE_FULL;
      } else {
        uint32_t i = (t->tx_head + t->tx_count) % t->tx_slots;
        uint8_t *slot = t->txq + (size_t)i * t->slot_size;
        memcpy(slot, t->tx_hdr, t->vnet_hdr);
        memcpy(slot + t->vnet_hdr, frame, (size_t)length);
        t->txq_len[i] = (uint32_t)length + t->vnet_hdr;
        t->tx_count++;
        t->st.tx_queued++;
        update_events(t);
        status = TX_QUEUED;
      }
    }
  }
  napi_create_int32(env, status, &out);
  return out;
}

/* setReading(handle, bool): pause or resume reading (frames then wait in the kernel's queue). */
static napi_value js_set_reading(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool on = false;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  tap_t *t = argc == 2 ? get_tap(env, argv[0]) : NULL;
  if (t == NULL || napi_get_value_bool(env, argv[1], &on) != napi_ok) return throw_type(env, "setReading(handle, boolean)");
  if (!t->closed) {
    t->reading = on;
    update_events(t);
  }
  return NULL;
}

static void close_tap(tap_t *t) {
  if (t->closed) return;
  /* One last non-blocking attempt to send what is queued; the rest is counted, not lost silently. */
  if (t->tx_count > 0) {
    int saved = t->reading;
    t->reading = 0;
    flush_tx(t);
    t->reading = saved;
    t->st.tx_dropped_at_close += t->tx_count;
    t->tx_count = 0;
  }
  t->closed = 1;
  /* The offloads live on the device, not the fd: left on, a persistent TAP would hand
   * super-frames and partial checksums to its next reader, which may take no header (lwIP's
   * tapif, a C program, an older pktstack). */
  if (t->fd >= 0 && t->offloads != 0) ioctl(t->fd, TUNSETOFFLOAD, 0UL);
  if (t->poll_inited) {
    /* uv_poll_stop removes the fd from epoll, so closing it right after is safe. */
    uv_poll_stop(&t->poll);
    uv_close((uv_handle_t *)&t->poll, on_poll_closed);
  }
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
  /* While the environment is being torn down, its references and async contexts go with it:
   * touching them from here would use a half-destroyed environment. */
  if (!t->in_cleanup) {
    napi_delete_reference(t->env, t->on_batch);
    napi_delete_reference(t->env, t->rx_buffer);
    napi_async_destroy(t->env, t->async_ctx);
  }
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  tap_t *t = argc == 1 ? get_tap(env, argv[0]) : NULL;
  if (t == NULL) return throw_type(env, "close(handle)");
  close_tap(t);
  return NULL;
}

static void set_num(napi_env env, napi_value obj, const char *key, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], o;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  tap_t *t = argc == 1 ? get_tap(env, argv[0]) : NULL;
  if (t == NULL) return throw_type(env, "stats(handle)");
  napi_create_object(env, &o);
  set_num(env, o, "wakeups", t->st.wakeups);
  set_num(env, o, "rxFrames", t->st.rx_frames);
  set_num(env, o, "rxBytes", t->st.rx_bytes);
  set_num(env, o, "rxErrors", t->st.rx_errors);
  set_num(env, o, "maxBatch", t->st.max_batch);
  set_num(env, o, "txDirect", t->st.tx_direct);
  set_num(env, o, "txQueued", t->st.tx_queued);
  set_num(env, o, "txFlushed", t->st.tx_flushed);
  set_num(env, o, "txQueueFull", t->st.tx_queue_full);
  set_num(env, o, "txErrors", t->st.tx_errors);
  set_num(env, o, "txDroppedAtClose", t->st.tx_dropped_at_close);
  set_num(env, o, "txQueueLength", t->tx_count);
  set_num(env, o, "lastErrno", t->last_errno);
  return o;
}

/* setIpv4({name, netns?, address, prefixLength}): the kernel side's address (like `ifconfig`). */
static napi_value js_set_ipv4(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  char name[64], netns[256], msg[512];
  uint32_t address, prefix;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok || type != napi_object)
    return throw_type(env, "setIpv4({name, address, prefixLength, netns?})");
  if (get_str_prop(env, argv[0], "name", name, sizeof name) != 1 || !valid_ifname(name)) return throw_errno(env, EINVAL, "invalid interface name");
  if (!get_u32_prop(env, argv[0], "address", UINT32_MAX, &address) || !get_u32_prop(env, argv[0], "prefixLength", 99, &prefix) || prefix > 32)
    return throw_type(env, "address must be a 32-bit number and prefixLength 0..32");
  int has_ns = get_str_prop(env, argv[0], "netns", netns, sizeof netns);
  if (has_ns < 0) return throw_type(env, "netns must be a namespace name or a path");

  netns_guard g;
  int err = netns_enter(has_ns == 1 ? netns : NULL, &g, msg, sizeof msg);
  if (err != 0) return throw_errno(env, err, msg);
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  err = sock < 0 ? errno : 0;
  if (err == 0) {
    struct ifreq ifr;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, name, strlen(name));
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(address);
    if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
      err = errno;
    } else {
      sin->sin_addr.s_addr = htonl(prefix == 0 ? 0 : (uint32_t)(0xffffffffu << (32 - prefix)));
      if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) err = errno;
    }
    close(sock);
  }
  netns_leave(&g);
  if (err != 0) {
    snprintf(msg, sizeof msg, "cannot set the IPv4 address of %s: %s%s", name, strerror(err),
             err == EPERM ? " (needs root or CAP_NET_ADMIN)" : err == ENODEV ? " (no such interface)" : "");
    return throw_errno(env, err, msg);
  }
  return NULL;
}

/* seqpacketPair() -> [fd, fd]: two connected fds that keep frame boundaries, like a TAP. */
static napi_value js_seqpacket_pair(napi_env env, napi_callback_info info) {
  (void)info;
  int fds[2];
  napi_value arr, v;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
    return throw_errno(env, errno, "socketpair(AF_UNIX, SOCK_SEQPACKET) failed");
  napi_create_array_with_length(env, 2, &arr);
  for (uint32_t i = 0; i < 2; i++) {
    napi_create_int32(env, fds[i], &v);
    napi_set_element(env, arr, i, v);
  }
  return arr;
}

/*
 * copy(source, sourceOffset, target, targetOffset, length): memmove between two typed arrays
 * (offsets in bytes from each view's start). The stack's byte copies (segment payloads into
 * frames, received data into slabs and readers' buffers) come here: in JavaScript a range copy
 * either allocates a view per call (set(subarray())) or loops over words at several times
 * memcpy's cost. A range outside either view copies nothing and returns false.
 */
static napi_value js_copy(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_value result;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5)
    return throw_type(env, "copy(source, sourceOffset, target, targetOffset, length)");
  void *source, *target;
  size_t source_length, target_length;
  napi_typedarray_type type;
  int32_t source_offset, target_offset, length;
  bool ok =
      napi_get_typedarray_info(env, argv[0], &type, &source_length, &source, NULL, NULL) ==
          napi_ok &&
      type == napi_uint8_array &&
      napi_get_typedarray_info(env, argv[2], &type, &target_length, &target, NULL, NULL) ==
          napi_ok &&
      type == napi_uint8_array && napi_get_value_int32(env, argv[1], &source_offset) == napi_ok &&
      napi_get_value_int32(env, argv[3], &target_offset) == napi_ok &&
      napi_get_value_int32(env, argv[4], &length) == napi_ok && source_offset >= 0 &&
      target_offset >= 0 && length >= 0 &&
      (size_t)source_offset + (size_t)length <= source_length &&
      (size_t)target_offset + (size_t)length <= target_length;
  if (ok && length > 0)
    memmove((uint8_t *)target + target_offset, (uint8_t *)source + source_offset, (size_t)length);
  napi_get_boolean(env, ok, &result);
  return result;
}

#define EXPORT(name, fn)                                                   \
  do {                                                                     \
    napi_value f;                                                          \
    napi_create_function(env, name, NAPI_AUTO_LENGTH, fn, NULL, &f);       \
    napi_set_named_property(env, exports, name, f);                        \
  } while (0)

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  EXPORT("open", js_open);
  EXPORT("attachFd", js_attach_fd);
  EXPORT("write", js_write);
  EXPORT("setReading", js_set_reading);
  EXPORT("close", js_close);
  EXPORT("stats", js_stats);
  EXPORT("setIpv4", js_set_ipv4);
  EXPORT("seqpacketPair", js_seqpacket_pair);
  EXPORT("copy", js_copy);
  return exports;
}
