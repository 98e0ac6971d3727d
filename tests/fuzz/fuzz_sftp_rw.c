/*
 * fuzz_sftp_rw.c: libFuzzer target for the SFTP engine with writing
 * allowed, each input in a fresh tmpfs jail that the engine enters, around
 * each call, chrooted and as nobody (see fuzz_sftp.c, FZ_SFTP_WRITABLE).
 * Run as root: without root there is no jail and the engine is read-only,
 * as in fuzz_sftp.
 */
#define FZ_SFTP_WRITABLE 1
#include "fuzz_sftp.c"
