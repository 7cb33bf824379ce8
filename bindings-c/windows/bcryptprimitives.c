/*
 * TEST-ONLY stand-in for Windows' bcryptprimitives.dll, for running the
 * cross-built anist.dll / anist.exe under Wine 8 (scripts/test_windows.sh).
 * NEVER SHIP IT: real Windows 10 and later have bcryptprimitives.dll.
 *
 * Rust's standard library (1.78+) gets its random bytes (HashMap seeds)
 * from ProcessPrng in bcryptprimitives.dll, which Windows 10+ has and
 * Wine 8 lacks; without it a Rust program stops at load time. This DLL
 * exports ProcessPrng and fills the buffer with RtlGenRandom (advapi32's
 * SystemFunction036, which Wine implements on the host's random source).
 *
 * Build (the script does it; --kill-at exports the undecorated name on
 * 32-bit, which is how Rust imports it):
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *       bcryptprimitives.c -Wl,--kill-at -ladvapi32
 *
 * SPDX-License-Identifier: EUPL-1.2
 */
#include <windows.h>

/* advapi32!SystemFunction036, a.k.a. RtlGenRandom. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
