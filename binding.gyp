{
  "targets": [
    {
      "target_name": "pktstack_tap",
      "sources": ["native/tap.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
