{
  "targets": [
    {
      "target_name": "tun",
      "sources": ["native/tun.c", "native/ether.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
