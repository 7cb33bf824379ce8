#!/usr/bin/env bash
# The Windows artefacts, cross-built here and run under Wine (issue #20):
#  1. installs what is missing: the rustup targets x86_64-pc-windows-gnu and
#     i686-pc-windows-gnu; with apt-get the MinGW-w64 cross compilers, Wine
#     (wine64, and wine32 after `dpkg --add-architecture i386`), NASM (aws-lc's
#     32-bit assembly) and zip;
#  2. builds, once each, anist.dll for x64 and x86 and anist.exe (x64) in
#     the lean `wine` cargo profile (opt-level 0, no LTO, 16 codegen units,
#     no debug info: ~3 CPU-minutes per target instead of ~15 on CI's two
#     cores; ANIST_WINDOWS_PROFILE=release builds the optimised artefacts
#     for shipping instead);
#  3. writes anist.def from include/anist.h, checks that each DLL exports
#     exactly those functions, and makes the MSVC-style import library
#     anist.lib with dlltool (MinGW's own is libanist.dll.a);
#  4. compiles every examples/c/*.c with MinGW (-Wall -Wextra -Werror) for
#     both architectures, plus identifiers.c linked through anist.lib, and
#     runs them under Wine; then the C benchmark on both;
#  5. runs `anist.exe demo` under Wine (the bundled Windows-1252 / CRLF
#     sample) and checks its summary and its output file against the Linux
#     build's (test.sh's target/release/anist, else a debug build), then the %APPDATA%
#     default of `demo --dir` and `csv inspect` on the sample;
#  6. compiles examples/delphi/AnistDemo.dpr for Win64 with Free Pascal in
#     Delphi mode (Debian's ppcx64, with a Win64 RTL built once from Debian's
#     fpc-source into target/windows/fpc) and runs it; Debian has no
#     compiler for Win32 (ppc386), so the 32-bit Pascal build is not tested;
#  7. packs target/windows/anist-<version>-windows.zip (x64/, x86/,
#     include/, delphi/, README-windows.txt).
# The Wine prefix lives in target/windows/wineprefix (made once, reused).
# Rust's standard library needs ProcessPrng from bcryptprimitives.dll, which
# Windows 10+ has and Wine 8 lacks: a TEST-ONLY stand-in built from
# bindings-c/windows/bcryptprimitives.c sits beside the test programs; it is
# never packed into the zip.
# Idempotent; fails on any error. Prints "Windows: N programs passed" last.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }

# apt-get install, non-interactive and minimal, as root or through sudo.
sudo=()
if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null ||
        { "${sudo[@]}" apt-get update -q >/dev/null &&
          "${sudo[@]}" apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
}

x64=x86_64-pc-windows-gnu
x86=i686-pc-windows-gnu
installed_targets=$(rustup target list --installed)
# rustup downloads the targets' standard library from static.rust-lang.org:
# on a machine that cannot reach it (only the package registries), the step
# says so on its last line and builds nothing, instead of failing the whole
# test command for a download.
for t in "$x64" "$x86"; do
    grep -qx "$t" <<<"$installed_targets" && continue
    step "rustup target add $t"
    if ! timeout 900 rustup target add "$t"; then
        echo "Windows: SKIPPED: the Rust target $t cannot be installed here (rustup needs static.rust-lang.org); nothing was built or run"
        exit 0
    fi
done
missing=()
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v i686-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-i686)
command -v zip >/dev/null || missing+=(zip)
# aws-lc-sys assembles its x86 (32-bit) code with NASM (x64 has prebuilt objects).
command -v nasm >/dev/null || missing+=(nasm)
command -v python3 >/dev/null || missing+=(python3)
command -v wine >/dev/null || missing+=(wine wine64)
if ! dpkg -s wine32:i386 >/dev/null 2>&1; then
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        step "dpkg --add-architecture i386 (for wine32)"
        "${sudo[@]}" dpkg --add-architecture i386
        "${sudo[@]}" apt-get update -q >/dev/null
    fi
    missing+=(wine32:i386)
fi
if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    apt_install "${missing[@]}"
fi

profile=${ANIST_WINDOWS_PROFILE:-wine}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
out=$root/target/windows
rm -rf "$out/x64" "$out/x86" "$out/pkg"
mkdir -p "$out/x64" "$out/x86" "$out/pkg"

step "cargo build --profile $profile: anist.dll + anist.exe ($x64), anist.dll ($x86)"
build_started=$SECONDS
cargo build --locked --quiet --profile "$profile" --target "$x64" -p anist-c -p anist --lib --bin anist
cargo build --locked --quiet --profile "$profile" --target "$x86" -p anist-c --lib
echo "cross builds: $((SECONDS - build_started)) s"

# The functions of the header: the .def file of both DLLs (cdecl names are
# not decorated in a DLL's export table, on x86 as on x64).
grep -v -E '^[[:space:]]*(//|\*|/\*)' bindings-c/include/anist.h |
    grep -oE '\banist_[a-z0-9_]+\(' | tr -d '(' | sort -u >"$out/functions.txt"
[ -s "$out/functions.txt" ] || { echo "no function found in anist.h"; exit 1; }
{
    echo "; anist.dll $version: the C ABI of anist (bindings-c/include/anist.h)."
    echo "; Calling convention: cdecl on x86 and x64 (Rust extern \"C\"); names undecorated."
    echo "LIBRARY anist.dll"
    echo "EXPORTS"
    sed 's/^/    /' "$out/functions.txt"
} >"$out/anist.def"

# Stages one architecture: $1 folder (x64/x86), $2 Rust target, $3 MinGW prefix.
stage() {
    local dir=$out/$1 target=$2 cross=$3
    local built=$root/target/$target/$profile
    cp "$built/anist.dll" "$built/libanist.dll.a" "$out/anist.def" "$dir/"
    # MSVC / Delphi / C++Builder-style import library from the .def file.
    (cd "$dir" && "$cross-dlltool" -d anist.def -D anist.dll -l anist.lib)
    "$cross-objdump" -p "$dir/anist.dll" |
        sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' |
        sed -n 's/^[[:space:]]*\[ *[0-9]*\] \(.*\)$/\1/p' | sort -u >"$out/$1-exports.txt"
    # Every function of the header, and nothing else but aws-lc's own
    # jitterentropy symbols (aws_lc_<version>_jent_*, which aws-lc's C marks
    # dllexport; prefixed, so they clash with nothing).
    if ! diff -u "$out/functions.txt" <(grep -v '^aws_lc_[0-9_]*_jent_' "$out/$1-exports.txt"); then
        echo "$1/anist.dll does not export exactly the functions of anist.h (diff above)"
        exit 1
    fi
    # Runtime DLLs beyond Windows' own would have to ship too: none allowed.
    local deps
    deps=$("$cross-objdump" -p "$dir/anist.dll" | sed -n 's/^.*DLL Name: //p' |
        grep -viE '^(kernel32|ntdll|advapi32|ws2_32|bcrypt|bcryptprimitives|userenv|msvcrt|api-ms-win-.*|crypt32|secur32|user32|ole32|oleaut32|shell32|iphlpapi|dbghelp|synchronization|ncrypt)\.dll$' || true)
    [ -z "$deps" ] || { echo "$1/anist.dll needs non-system DLLs: $deps"; exit 1; }
    # Test-only: the ProcessPrng stand-in Wine 8 lacks (never shipped).
    mkdir -p "$dir/test"
    "$cross-gcc" -shared -O2 -Wall -Wextra -Werror -o "$dir/test/bcryptprimitives.dll" \
        bindings-c/windows/bcryptprimitives.c -Wl,--kill-at -ladvapi32
    cp "$dir/anist.dll" "$dir/test/"
}
stage x64 "$x64" x86_64-w64-mingw32
stage x86 "$x86" i686-w64-mingw32
cp "$root/target/$x64/$profile/anist.exe" "$out/x64/"
cp "$out/x64/anist.exe" "$out/x64/test/"

step "Wine prefix (target/windows/wineprefix)"
export WINEPREFIX=$out/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
unset DISPLAY
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    wineboot -i >"$out/wineboot.log" 2>&1 || { cat "$out/wineboot.log"; exit 1; }
fi
wine_run() { wine "$@" </dev/null; }

passed=0
# Compiles $2 (a C file) for $1 (x64/x86) into $1/test and runs it; $3... extra flags.
c_program() {
    local arch=$1 src=$2 name cross
    shift 2
    name=$(basename "$src" .c)
    [ "$arch" = x64 ] && cross=x86_64-w64-mingw32 || cross=i686-w64-mingw32
    # -static: the MinGW runtime (winpthreads, libgcc) goes into the .exe,
    # so that only anist.dll has to sit beside it.
    "$cross-gcc" -std=c11 -Wall -Wextra -Werror -O1 -static -Ibindings-c/include "$src" \
        "$@" -lpthread -o "$out/$arch/test/$name.exe"
}

for arch in x64 x86; do
    for src in examples/c/*.c; do
        name=$(basename "$src" .c)
        step "Wine $arch: $name.exe"
        c_program "$arch" "$src" "$out/$arch/libanist.dll.a"
        wine_run "$out/$arch/test/$name.exe"
        passed=$((passed + 1))
    done
    step "Wine $arch: identifiers.exe linked through anist.lib"
    "$([ "$arch" = x64 ] && echo x86_64 || echo i686)-w64-mingw32-gcc" -std=c11 -Wall -Wextra \
        -Werror -O1 -static -Ibindings-c/include examples/c/identifiers.c "$out/$arch/anist.lib" \
        -o "$out/$arch/test/identifiers-lib.exe"
    wine_run "$out/$arch/test/identifiers-lib.exe" >/dev/null
    passed=$((passed + 1))
    step "Wine $arch: C benchmark (anist_cf_validate over 1M codes)"
    c_program "$arch" benches/c/cf_validate.c "$out/$arch/libanist.dll.a"
    wine_run "$out/$arch/test/cf_validate.exe" 3
    passed=$((passed + 1))
done

step "Wine x64: anist.exe demo (Windows-1252, CRLF sample) against the Linux build"
year=2025/2026
# The Linux build of the same sources: test.sh's release one, else a debug one
# (cheaper to build than release's thin LTO; the answers are the same).
linux=target/release/anist
if [ ! -x "$linux" ] || [ "$linux" -ot Cargo.lock ]; then
    cargo build --locked --quiet --bin anist
    linux=target/debug/anist
fi
demo=$out/demo
rm -rf "$demo"
mkdir -p "$demo"
"$linux" demo --dir "$demo/linux" --school-year "$year" --quiet --json >"$demo/linux.json"
wine_run "$out/x64/test/anist.exe" demo --dir "$(winepath -w "$demo/windows")" \
    --school-year "$year" --quiet --json >"$demo/windows.json"
python3 - "$demo" <<'EOF'
import json, pathlib, sys
d = pathlib.Path(sys.argv[1])
keys = ("rows_total", "rows_done", "distinct_codes", "outcomes")
lin, win = (json.loads((d / f).read_text()) for f in ("linux.json", "windows.json"))
same = {k: lin[k] for k in keys} == {k: win[k] for k in keys}
print("Linux:  ", {k: lin[k] for k in keys})
print("Windows:", {k: win[k] for k in keys})
assert lin["rows_total"] == 5000 and lin["outcomes"]["error"] == 0, "Linux demo incomplete"
assert same, "anist.exe demo under Wine differs from the Linux demo"
a, b = ((d / s / "esiti.csv").read_bytes() for s in ("linux", "windows"))
assert a.startswith(b"\xef\xbb\xbf") and b"\r\n" in a, "output is not Excel's BOM + CRLF CSV"
assert a == b, "esiti.csv differs between Linux and Windows"
print("same summary and byte-identical esiti.csv (UTF-8 BOM, ';', CRLF)")
EOF
passed=$((passed + 1))

step "Wine x64: anist.exe demo without --dir writes under %APPDATA%\\anist\\demo"
appdata=$(wine_run cmd /c echo %APPDATA% | tr -d '\r')
appdata_unix=$(winepath -u "$appdata" 2>/dev/null | tr -d '\r')
rm -rf "$appdata_unix/anist/demo"
wine_run "$out/x64/test/anist.exe" demo --school-year "$year" --quiet --json >/dev/null
[ -s "$appdata_unix/anist/demo/esiti.csv" ] ||
    { echo "no esiti.csv under $appdata\\anist\\demo"; exit 1; }
echo "wrote $appdata\\anist\\demo\\esiti.csv"
passed=$((passed + 1))

step "Wine x64: anist.exe csv inspect of the Windows-1252 sample"
wine_run "$out/x64/test/anist.exe" csv inspect "$(winepath -w examples/data/anagrafe.csv)" |
    tr -d '\r' | tee "$demo/inspect.txt"
grep -qi 'windows-1252' "$demo/inspect.txt" || { echo "encoding not detected"; exit 1; }
passed=$((passed + 1))

# Free Pascal cross-compiles for Win64 with Debian's own compiler (ppcx64
# knows the target) once a Win64 RTL exists: Debian ships none, so it is
# built once from fpc-source into target/windows/fpc (seconds of CPU). No
# Win32: Debian's amd64 Free Pascal has no i386 compiler (ppc386).
step "Free Pascal (Delphi mode) for Win64: the RTL from fpc-source"
command -v fpc >/dev/null || apt_install fp-compiler
fpcv=$(fpc -iV)
fpcsrc=/usr/share/fpcsrc/$fpcv
[ -d "$fpcsrc/rtl/win64" ] || apt_install "fpc-source-$fpcv"
rtl=$out/fpc/units/x86_64-win64
if [ ! -f "$rtl/sysutils.ppu" ]; then
    rm -rf "$out/fpc"
    mkdir -p "$rtl" "$out/fpc/src"
    cp -r "$fpcsrc/rtl" "$out/fpc/src/"
    (
        cd "$out/fpc/src/rtl/win64"
        ppc=(ppcx64 -n -Twin64 -Px86_64 -O2 -Fi../inc -Fi../x86_64 -Fi../win -Fu../inc
             -Fu../x86_64 -Fu../win -Fu"$rtl" -FE"$rtl" -FU"$rtl")
        "${ppc[@]}" -Us -Sg system.pp
        "${ppc[@]}" -I../objpas ../objpas/objpas.pp
        "${ppc[@]}" -Fi../objpas/sysutils -Fi../objpas/classes -I../win -I../objpas \
            -I../win/wininc -Fu../win/wininc -Fu../objpas buildrtl
    ) >"$out/fpc/rtl.log" 2>&1 || { tail -30 "$out/fpc/rtl.log"; exit 1; }
    rm -rf "$out/fpc/src"
fi
step "Wine x64: Free Pascal (Delphi mode, -Twin64): AnistDemo.exe"
mkdir -p "$out/fpc/demo"
fpc -Twin64 -Px86_64 -Mdelphi -vew -Fu"$rtl" -Fuexamples/delphi -FU"$out/fpc/demo" \
    -o"$out/x64/test/AnistDemo.exe" examples/delphi/AnistDemo.dpr >"$out/fpc/demo.log" ||
    { cat "$out/fpc/demo.log"; exit 1; }
wine_run "$out/x64/test/AnistDemo.exe"
passed=$((passed + 1))

step "target/windows/anist-$version-windows.zip"
pkg=$out/pkg/anist-$version-windows
mkdir -p "$pkg/x64" "$pkg/x86" "$pkg/include" "$pkg/delphi"
for arch in x64 x86; do
    cp "$out/$arch/anist.dll" "$out/$arch/libanist.dll.a" "$out/$arch/anist.lib" \
        "$out/$arch/anist.def" "$pkg/$arch/"
done
cp "$out/x64/anist.exe" "$pkg/x64/"
cp bindings-c/include/anist.h "$pkg/include/"
cp examples/delphi/Anist.pas examples/delphi/AnistDemo.dpr "$pkg/delphi/"
sed -e "s/@VERSION@/$version/" -e "s/@PROFILE@/$profile/" -e 's/$/\r/' \
    bindings-c/windows/README-windows.txt >"$pkg/README-windows.txt"
rm -f "$out/anist-$version-windows.zip"
(cd "$out/pkg" && zip -q -r -X "$out/anist-$version-windows.zip" "anist-$version-windows")
if unzip -l "$out/anist-$version-windows.zip" | grep -qi bcryptprimitives; then
    echo "the test-only bcryptprimitives.dll must not be packed"; exit 1
fi
unzip -l "$out/anist-$version-windows.zip" | sed -n '4,$p' | awk '{print "  " $4}' | grep -v '^  $' || true

wineserver -k 2>/dev/null || true
echo
echo "Windows step: $((SECONDS - started)) s"
echo "Windows: ${passed} programs passed (x64 and x86 under Wine, Free Pascal Win64 included)"
