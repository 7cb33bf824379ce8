#!/usr/bin/env bash
# The C and Delphi / Free Pascal consumers of libanist (bindings-c):
#  1. builds the library once, in release (the benchmark needs it too);
#  2. stages it as an installed prefix, target/c/prefix: lib/libanist.so.X.Y.Z
#     with its SONAME link libanist.so.X and libanist.so, libanist.a,
#     include/anist.h, lib/pkgconfig/anist.pc;
#  3. compiles every examples/c/*.c with gcc -Wall -Wextra -Werror through
#     pkg-config and runs it under valgrind (leaks and errors fail), and one
#     of them again linked statically;
#  4. compiles examples/delphi/AnistDemo.dpr with Free Pascal in Delphi mode
#     and runs it;
#  5. runs the C benchmark (benches/c/cf_validate.c; ANIST_C_BENCH_MIN=20
#     makes it fail below 20 M codes/s).
# Installs valgrind and Free Pascal with apt-get when they are missing.
# Idempotent; works from a clean clone. Prints "C: N programs passed,
# Pascal: N passed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

# apt-get install, non-interactive and minimal, as root or through sudo.
apt_install() {
    local sudo=()
    if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
        { "${sudo[@]}" apt-get update -q >/dev/null &&
          "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

command -v valgrind >/dev/null || { step "installing valgrind"; apt_install valgrind; }
command -v fpc >/dev/null || { step "installing Free Pascal"; apt_install fp-compiler; }
command -v pkg-config >/dev/null || { step "installing pkg-config"; apt_install pkg-config; }
command -v gcc >/dev/null || { step "installing gcc"; apt_install gcc libc6-dev; }

step "libanist (release)"
cargo build --release --locked --quiet -p anist-c

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
out=$root/target/c
prefix=$out/prefix
rm -rf "$prefix" "$out/bin" "$out/pas"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" "$out/bin" "$out/pas"
cp target/release/libanist.so "$prefix/lib/libanist.so.$version"
ln -s "libanist.so.$version" "$prefix/lib/libanist.so.$major"
ln -s "libanist.so.$major" "$prefix/lib/libanist.so"
cp target/release/libanist.a "$prefix/lib/"
cp bindings-c/include/anist.h "$prefix/include/"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" bindings-c/anist.pc.in \
    >"$prefix/lib/pkgconfig/anist.pc"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
soname=$(readelf -d "$prefix/lib/libanist.so.$version" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$soname" = "libanist.so.$major" ] || { echo "SONAME is '$soname', expected libanist.so.$major"; exit 1; }

read -r -a cflags <<<"$(pkg-config --cflags anist)"
read -r -a libs <<<"$(pkg-config --libs anist)"
read -r -a private <<<"$(pkg-config --static --libs-only-l anist | sed 's/-lanist//')"
rpath=(-Wl,-rpath,"$prefix/lib")

c_passed=0
for src in examples/c/*.c; do
    name=$(basename "$src" .c)
    step "C: $name (valgrind)"
    gcc -std=c11 -Wall -Wextra -Werror -O1 -g "$src" "${cflags[@]}" "${libs[@]}" \
        -lpthread "${rpath[@]}" -o "$out/bin/$name"
    valgrind --quiet --error-exitcode=1 --leak-check=full --suppressions="$root/examples/c/valgrind.supp" "$out/bin/$name"
    c_passed=$((c_passed + 1))
done

step "C: identifiers linked statically (libanist.a)"
gcc -std=c11 -Wall -Wextra -Werror -O1 examples/c/identifiers.c "${cflags[@]}" \
    "$prefix/lib/libanist.a" "${private[@]}" -o "$out/bin/identifiers-static"
"$out/bin/identifiers-static" >/dev/null
c_passed=$((c_passed + 1))

pas_passed=0
step "Free Pascal (Delphi mode): AnistDemo"
fpc -Mdelphi -vew -Fuexamples/delphi -Fl"$prefix/lib" -k-rpath="$prefix/lib" \
    -FU"$out/pas" -o"$out/bin/AnistDemo" examples/delphi/AnistDemo.dpr >"$out/pas/fpc.log" ||
    { cat "$out/pas/fpc.log"; exit 1; }
"$out/bin/AnistDemo"
pas_passed=$((pas_passed + 1))

step "C benchmark: anist_cf_validate over 1M codes"
gcc -std=c11 -Wall -Wextra -Werror -O2 benches/c/cf_validate.c "${cflags[@]}" "${libs[@]}" \
    "${rpath[@]}" -o "$out/bin/cf_validate"
"$out/bin/cf_validate" 5 "${ANIST_C_BENCH_MIN:-0}"

echo
echo "C: ${c_passed} programs passed, Pascal: ${pas_passed} passed"
