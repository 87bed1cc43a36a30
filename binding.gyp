{
  "targets": [
    {
      "target_name": "tun",
      "sources": ["native/tun.c", "native/ether.c", "native/reader.c", "native/netns-job.c", "native/uring-batch.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-l:liburing.a"]
    }
  ]
}
