{
  "targets": [
    {
      "target_name": "depthfold_onednn",
      "sources": [
        "addon.cc",
        "conv.cc",
        "norm.cc",
        "eltwise.cc",
        "layout.cc",
        "pool.cc",
        "matmul.cc",
        "sgd.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-ffp-contract=off", "-fopenmp", "-Wall", "-Wextra"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
