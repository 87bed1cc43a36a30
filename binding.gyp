{
  "targets": [
    {
      "target_name": "tun",
      "sources": ["native/tun.c", "native/ether.c", "native/reader.c", "native/netns-job.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
