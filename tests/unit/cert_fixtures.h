/*
 * cert_fixtures.h: certificates, keys and KRLs made by ssh-keygen from
 * OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.22 25 Aug 2026
 * for test_sshcert.c and test_krl.c, with ssh-keygen -Q's verdicts.
 *
 * Keys: ssh-keygen -t ed25519|rsa -b 2048|ecdsa -b 384 (CAs ca_ed, ca_rsa,
 * ca_ec); users u_ed, u_ec256 (-b 256), u_ec521 (-b 521), u_rsa (-b 2048),
 * u_other (ed25519). Certificates: ssh-keygen -s CA -I ID -n PRINCIPALS
 * -V 20200101000000Z:20400101000000Z -z SERIAL [-O ...] (see each comment).
 * KRLs: ssh-keygen -k -f KRL [-s CA.pub] SPEC (specs below); the verdicts
 * come from ssh-keygen -Q -f KRL FILE for every key and certificate.
 */
#ifndef POSTERN_CERT_FIXTURES_H
#define POSTERN_CERT_FIXTURES_H

struct fx_item {
	const char *name;
	const char *text;
};

/* Public keys (.pub): CAs and users. */
static const struct fx_item fx_keys[] = {
    {"ca_ed",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFkUCXwMg6aKLYTbenZs1DzVk8h+XTD+"
        "zVZ29GBzJUQg ca-ed25519"},
    {"ca_rsa",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCDs0H6JGGVx44ciilFVrR7tI1mLde7"
        "zbnKyJUS6JDCWOOB5g5IbgfpKQmxOns6HG+6aUtOCiV0HTXVqbsWBciKBMDfkD8PEn8i"
        "v+DWQ3+Lm1WioiHXyCsmSYPFW5zl07zxuQmv145SworZlUTgVWpgASARoSo3EXXlo+vX"
        "gmYPq8CKpV3GvLiIHQIpxQZEUxk7QEaNgf288dBxLI6935so70RSevdQ1WbZsNIyholA"
        "t27jz9vGis10DJ2fR05Nc5BIoi8OhfnMDxyOCV6kDwb3uDj91xOlGK4mIneWK0xxd/Er"
        "lm8EcgjATrmON6tkjo/CouHWw80Rlfa0NlV8SECf ca-rsa"},
    {"ca_ec",
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQA"
        "AABhBCjNiEvWLKKhFSU5i+arqbL223Ra2vNhgKjyxSqa1gPEho8FZNzwvQVI2EcScuTn"
        "+L3wzWEYjH9RL3uWvsRWTb9OEArqBwyoPKOd5pP9UtMH/nalGNjSzpy8m3qBxOd0Bg=="
        " ca-ecdsa"},
    {"u_ed",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMmpT1OBDFufKYWdX9z41aK6P7C4JSUf"
        "7/9b2VB0joMl user-ed25519"},
    {"u_ec256",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYA"
        "AABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBptq/YmqsQuxxPQKuJMWC8n94CXTMhW"
        "CbBrHm70fB8+xs7fy69A/Do= user-ecdsa256"},
    {"u_ec521",
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEA"
        "AACFBADMBkAUhnf/HY3r+57c4yiVvOic5f+Y4spMTG9F/x5cOXoAS+O4xm4KK2Uk3Qfj"
        "PKRQKpakZoU7NXsOIIgnAAtJvAGFV9XOPbAZ2IqjfdveAD02BaMwjL8qw2R3+ePHnuL+"
        "nzch8AeOmF/LDPbc5oPXVT6vlHlrqGOkYqA23mm3zXd5Pg== user-ecdsa521"},
    {"u_rsa",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCwmLG+ZHSiLtAuUcnKbJquSKAKTw+b"
        "O4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94O4C66Vv47OU0WFowQfyJeX2+A3xUw"
        "/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02l3VsdjzgjySDfME5E4vJypor3RAl0"
        "qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttVGNC2/ptC8yWOs9g8CA0pUQWmGQ0jr"
        "3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNorP/CAFFAqM3dAStUPKTtj8wqBWh806"
        "nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDinx user-rsa"},
    {"u_other",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIF/mS1penhMEXsUSdnLYTm+IQfCAJD9w"
        "w/SfeZxAVSgu user-other"},
};
#define FX_NKEYS (sizeof(fx_keys) / sizeof(fx_keys[0]))

/* Certificates (-cert.pub), as ssh-keygen -L describes them. */
static const struct fx_item fx_certs[] = {
    /* u_ed by ca_ed, id-clear, 4001, alice, -O clear -O permit-pty
     * -O no-touch-required -O extension:custom@example.com=value */
    {"clear_pty",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIGQbC/ve+5jW/44yP2dCvWgj80ahmtAj9Egsp4pzg95iAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAD6EAAAABAAAACGlkLWN"
        "sZWFyAAAACQAAAAVhbGljZQAAAABeC+EAAAAAAIOqfoAAAAAAAAAATgAAABJjdXN0b21"
        "AZXhhbXBsZS5jb20AAAAJAAAABXZhbHVlAAAAEW5vLXRvdWNoLXJlcXVpcmVkAAAAAAA"
        "AAApwZXJtaXQtcHR5AAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXwMg6a"
        "KLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEB4hje"
        "MDSbsuN/W0YmSpmVW/4Vp96P8hiq4CSbMyWGk/D/hKfB4BNvSzkYPNMMYHNHdZTj9W8s"
        "PnA13NddG6fMB user-ed25519"},
    /* u_ec256 by ca_rsa (rsa-sha2-512), id-ec256, 1002, alice */
    {"ec256_rsaca",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "yNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgmI74x971zt4Lgeiv3kkzVKwZ5BdIsAl"
        "5imPNgVREt1AAAAAIbmlzdHAyNTYAAABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBp"
        "tq/YmqsQuxxPQKuJMWC8n94CXTMhWCbBrHm70fB8+xs7fy69A/DoAAAAAAAAD6gAAAAE"
        "AAAAIaWQtZWMyNTYAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p+gAAAAAAAAACCAAA"
        "AFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmR"
        "pbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHk"
        "AAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAEXAAAAB3NzaC1yc2EAAAADAQA"
        "BAAABAQCDs0H6JGGVx44ciilFVrR7tI1mLde7zbnKyJUS6JDCWOOB5g5IbgfpKQmxOns"
        "6HG+6aUtOCiV0HTXVqbsWBciKBMDfkD8PEn8iv+DWQ3+Lm1WioiHXyCsmSYPFW5zl07z"
        "xuQmv145SworZlUTgVWpgASARoSo3EXXlo+vXgmYPq8CKpV3GvLiIHQIpxQZEUxk7QEa"
        "Ngf288dBxLI6935so70RSevdQ1WbZsNIyholAt27jz9vGis10DJ2fR05Nc5BIoi8Ohfn"
        "MDxyOCV6kDwb3uDj91xOlGK4mIneWK0xxd/Erlm8EcgjATrmON6tkjo/CouHWw80Rlfa"
        "0NlV8SECfAAABFAAAAAxyc2Etc2hhMi01MTIAAAEAQm1BPG2tcGEDqyCySz4ovXFSL2z"
        "qJKt46vrZXB5SiwRg5SGPErc5MfGL3lIblyx/L8RA9ZIQvScMM4/pfokHYlf7mGUZTh4"
        "k9v7dwnSs9sS4uV+f2n0QPjMFx0+Liif10su9wRgR4PMYU3hGyRXme96ZUF/9fho2YHc"
        "lOzcsPmNi06L1f1EZMpjpBG48epFAFaXjXiNg4WOoJowWswGsBEHpSIPrFcZh9Elsy9t"
        "vn3f8v7s+Y5yBfUCkHwkXwh3MQ0oxIB1notuzhz92OxFrKqG+42b/3QoR/1L2KqpJInI"
        "pFeJNZUECkgB3nCJQkM3g5ZdXYfv5+TZIX9Q95sYZqg== user-ecdsa256"},
    /* u_ec521 by ca_ed, id-ec521, 1004, alice */
    {"ec521_edca",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "1MjEtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg4LXgh03B/6e1Bg+QyZ0ygDmwN2h5EGT"
        "z0HwFJd5KsAkAAAAIbmlzdHA1MjEAAACFBADMBkAUhnf/HY3r+57c4yiVvOic5f+Y4sp"
        "MTG9F/x5cOXoAS+O4xm4KK2Uk3QfjPKRQKpakZoU7NXsOIIgnAAtJvAGFV9XOPbAZ2Iq"
        "jfdveAD02BaMwjL8qw2R3+ePHnuL+nzch8AeOmF/LDPbc5oPXVT6vlHlrqGOkYqA23mm"
        "3zXd5PgAAAAAAAAPsAAAAAQAAAAhpZC1lYzUyMQAAAAkAAAAFYWxpY2UAAAAAXgvhAAA"
        "AAACDqn6AAAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJ"
        "taXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwA"
        "AAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADM"
        "AAAALc3NoLWVkMjU1MTkAAAAgWRQJfAyDpoothNt6dmzUPNWTyH5dMP7NVnb0YHMlRCA"
        "AAABTAAAAC3NzaC1lZDI1NTE5AAAAQH/vo0tPl+dM5icb1a2mniudRJ0pjUx7Iy5n0kh"
        "XByXOIXydVHd4eH9cwZ2n7gRcp5UscFb9bHGdd0Oi2l/SOAc= user-ecdsa521"},
    /* u_ed by ca_ed, id-ed-full, 1001, alice,bob,
     * -O force-command="/bin/echo forced" -O source-address=
     * 192.168.0.0/16,10.1.2.3,2001:db8::/32 */
    {"ed_full",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIJoSoSBEQsaB/EmZK1qDIx6AsVnikDXhusNviKwYaXk3AAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAA+kAAAABAAAACmlkLWV"
        "kLWZ1bGwAAAAQAAAABWFsaWNlAAAAA2JvYgAAAABeC+EAAAAAAIOqfoAAAABoAAAADWZ"
        "vcmNlLWNvbW1hbmQAAAAUAAAAEC9iaW4vZWNobyBmb3JjZWQAAAAOc291cmNlLWFkZHJ"
        "lc3MAAAApAAAAJTE5Mi4xNjguMC4wLzE2LDEwLjEuMi4zLDIwMDE6ZGI4OjovMzIAAAC"
        "CAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcnd"
        "hcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1"
        "wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE"
        "5AAAAIFkUCXwMg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQ"
        "yNTUxOQAAAEBUMka40Fi1GbUkwV+Rc/YxzrBHxmOk+WK5pKeL+iTTRDHzFed+6b1Lt9B"
        "HnynWExfVFe+Ix/Mm9KsyMqA7FhgF user-ed25519"},
    /* u_ed by ca_ed, id-expired, 2000, alice, 2010-01-01..2011-01-01 */
    {"expired",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAICVOy/ws06l6V9sTmzF9RKPl6nSZL+Wz1rxKKTTXmTkQAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAB9AAAAABAAAACmlkLWV"
        "4cGlyZWQAAAAJAAAABWFsaWNlAAAAAEs9OwAAAAAATR5ugAAAAAAAAACCAAAAFXBlcm1"
        "pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAA"
        "AAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAA"
        "ADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXw"
        "Mg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEC"
        "FMg45ffgqw9fh/dw/KSUWo3ZK71hhaYTJ8CXw4VWyTGXvrM0E8MdGKv+kSgtYpNtq/sP"
        "BSgB7uYTLI3NNKVkK user-ed25519"},
    /* u_other by ca_ed, revoked-id, serial 0, alice, no -V (forever) */
    {"forever",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIOctGpCG1W6PPGxki0kp1IxVaTHr+jLevwtPfsxc43n2AAAAIF/"
        "mS1penhMEXsUSdnLYTm+IQfCAJD9ww/SfeZxAVSguAAAAAAAAAAAAAAABAAAACnJldm9"
        "rZWQtaWQAAAAJAAAABWFsaWNlAAAAAAAAAAD//////////wAAAAAAAACCAAAAFXBlcm1"
        "pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAA"
        "AAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAA"
        "ADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXw"
        "Mg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEB"
        "n01M4OzG/BFN/G2/3pxK+PgKA0RzO1d7C5clkNj9myTLW8PeOEmFc7K5Ch/N1QWnmNYY"
        "8YNOpkC+9/hTgLdwA user-other"},
    /* u_ed by ca_ed, id-future, 2001, alice, 2090-01-01..2091-01-01 */
    {"future",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIKYJejIS5SHJB71o3s1MDsCOfOBUvl1J8s0/cQXWhCoqAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAB9EAAAABAAAACWlkLWZ"
        "1dHVyZQAAAAkAAAAFYWxpY2UAAAAA4bexAAAAAADjmOSAAAAAAAAAAIIAAAAVcGVybWl"
        "0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAA"
        "AAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAA"
        "OcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgWRQJfAy"
        "DpoothNt6dmzUPNWTyH5dMP7NVnb0YHMlRCAAAABTAAAAC3NzaC1lZDI1NTE5AAAAQLy"
        "4w8ZagSdlKyFyE0IV2+mAwcJQWSEahd4MDshaedM1k5Yn75ZfgXyfUsx7fXgFjeyG7No"
        "AFkMq2molI434IwU= user-ed25519"},
    /* u_ed by ca_ed, -h (host), id-host, 3000, host.example.com */
    {"host",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAICKqNHnGvITN7YRONyWPLc4TCkOc55lisOYARzXwRL8SAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAC7gAAAACAAAAB2lkLWh"
        "vc3QAAAAUAAAAEGhvc3QuZXhhbXBsZS5jb20AAAAAXgvhAAAAAACDqn6AAAAAAAAAAAA"
        "AAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBZFAl8DIOmii2E23p2bNQ81ZPIfl0w/s1"
        "WdvRgcyVEIAAAAFMAAAALc3NoLWVkMjU1MTkAAABAP8luyvvusPCPyWMBmleKIkSHlUa"
        "ZnSvHXhTy5fc3IjfhlggbXKXyCu4dCpr8zlCXTJ2KSwDLrTskc+b9skXYAw== user-e"
        "d25519"},
    /* u_ed by ca_ed, id-noprinc, 4004, no -n (no principals) */
    {"noprinc",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIGEflsssMZzNVlqqdFWwHD4StE+AZehZOJMwFvOKjaCMAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAD6QAAAABAAAACmlkLW5"
        "vcHJpbmMAAAAAAAAAAF4L4QAAAAAAg6p+gAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9"
        "yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1"
        "pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC1"
        "1c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXwMg6aKLYTbenZ"
        "s1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAECPdV9YQcr6p5P"
        "jKFrhB1Moe+o6XhehOa5rmPEmgMKUiPcqAI+xRO7SKpYQFtY/BqVZI0BOND4Dk04SUGm"
        "eYOYN user-ed25519"},
    /* u_ec256 by ca_ed, id-restricted, 4000, alice, -O no-pty
     * -O no-port-forwarding -O no-x11-forwarding */
    {"restricted",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "yNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg0jPJ2SG0vIBLt4b1oVTWnrN++NIbfLH"
        "I2q4ngIJ3GnwAAAAIbmlzdHAyNTYAAABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBp"
        "tq/YmqsQuxxPQKuJMWC8n94CXTMhWCbBrHm70fB8+xs7fy69A/DoAAAAAAAAPoAAAAAE"
        "AAAANaWQtcmVzdHJpY3RlZAAAAAkAAAAFYWxpY2UAAAAAXgvhAAAAAACDqn6AAAAAAAA"
        "AADUAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAAADnBlcm1pdC11c2VyLXJ"
        "jAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXwMg6aKLYTbenZs1DzVk8h"
        "+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAEAWLEW+4FFSCS1Qk2CU9ID"
        "LG+m8FUOviRAow5ifiOChZ6Qm1oEgg68QdrWSBYd/p39Q3ySa0OqB8THSaxwIZ0sO us"
        "er-ecdsa256"},
    /* u_rsa by ca_ec (ecdsa-sha2-nistp384), id-rsa, 1003, alice,carol */
    {"rsa_ecca",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5"
        "jb20AAAAgD2QNklxcMwmTrmbQoZZpBczmR/NsQJaDCJrW7/pPMBwAAAADAQABAAABAQC"
        "wmLG+ZHSiLtAuUcnKbJquSKAKTw+bO4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94"
        "O4C66Vv47OU0WFowQfyJeX2+A3xUw/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02"
        "l3VsdjzgjySDfME5E4vJypor3RAl0qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttV"
        "GNC2/ptC8yWOs9g8CA0pUQWmGQ0jr3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNor"
        "P/CAFFAqM3dAStUPKTtj8wqBWh806nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDin"
        "xAAAAAAAAA+sAAAABAAAABmlkLXJzYQAAABIAAAAFYWxpY2UAAAAFY2Fyb2wAAAAAXgv"
        "hAAAAAACDqn6AAAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABd"
        "wZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGl"
        "uZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAA"
        "AAIgAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAAhuaXN0cDM4NAAAAGEEKM2IS9YsoqE"
        "VJTmL5qupsvbbdFra82GAqPLFKprWA8SGjwVk3PC9BUjYRxJy5Of4vfDNYRiMf1Eve5a"
        "+xFZNv04QCuoHDKg8o53mk/1S0wf+dqUY2NLOnLybeoHE53QGAAAAhQAAABNlY2RzYS1"
        "zaGEyLW5pc3RwMzg0AAAAagAAADEA29aC9l/BURUGUIKrKP+rQOyrVrvopLZb2PoEOoP"
        "fjDEJHyzZZJWCChtlBdCg8+ITAAAAMQDRchsOIj/mQgvcccvQdtdrGNWNRi/Fip38eyQ"
        "9qb1H/blEOoct9UcwTIVu7EEoRu4= user-rsa"},
    /* u_rsa by ca_rsa -t ssh-rsa (SHA-1), id-rsa-sha1, 1006, alice */
    {"rsa_sha1",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5"
        "jb20AAAAg1KVsOZLmdyBsMj/BLpxA1tVbaa7l8QX7TqPUs1h5mVUAAAADAQABAAABAQC"
        "wmLG+ZHSiLtAuUcnKbJquSKAKTw+bO4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94"
        "O4C66Vv47OU0WFowQfyJeX2+A3xUw/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02"
        "l3VsdjzgjySDfME5E4vJypor3RAl0qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttV"
        "GNC2/ptC8yWOs9g8CA0pUQWmGQ0jr3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNor"
        "P/CAFFAqM3dAStUPKTtj8wqBWh806nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDin"
        "xAAAAAAAAA+4AAAABAAAAC2lkLXJzYS1zaGExAAAACQAAAAVhbGljZQAAAABeC+EAAAA"
        "AAIOqfoAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1"
        "pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAA"
        "AAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAABFwA"
        "AAAdzc2gtcnNhAAAAAwEAAQAAAQEAg7NB+iRhlceOHIopRVa0e7SNZi3Xu825ysiVEui"
        "QwljjgeYOSG4H6SkJsTp7OhxvumlLTgoldB011am7FgXIigTA35A/DxJ/Ir/g1kN/i5t"
        "VoqIh18grJkmDxVuc5dO88bkJr9eOUsKK2ZVE4FVqYAEgEaEqNxF15aPr14JmD6vAiqV"
        "dxry4iB0CKcUGRFMZO0BGjYH9vPHQcSyOvd+bKO9EUnr3UNVm2bDSMoaJQLdu48/bxor"
        "NdAydn0dOTXOQSKIvDoX5zA8cjglepA8G97g4/dcTpRiuJiJ3litMcXfxK5ZvBHIIwE6"
        "5jjerZI6PwqLh1sPNEZX2tDZVfEhAnwAAAQ8AAAAHc3NoLXJzYQAAAQBr97xEpcrTTXl"
        "ijOVNIREdFdgKzlSQv6bGvo/DOr9aAT/tZVLxWe3D3Widmve4VxHdjbuOVRZy5ObVLq1"
        "KsG5kHnta5z4xUKCQFSfL0VXJ3DviRcd48UcwrpwKTNBI1d4PNFffL1z+f9CUZD7p3R1"
        "mz5KQGY7XfqA2+44dZsehT+mqRrcQZS7DSFiy0WIeoipQTw3FdKw6CBNbxnBIlGH+SF8"
        "DbLvgEPuVe/Jagg2acHbCYpp/wXfZh1tR1M9knX618tZtms9fZMguRWRQY+AN83fxgYq"
        "EB/5o9oTkM/3ssqXqZL952vU7Eu79OFAyVF108M0YfK3YSKuydOKpsmeT user-rsa"},
    /* u_rsa by ca_rsa -t rsa-sha2-256, id-rsa256, 1005, alice */
    {"rsa_sha256",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5"
        "jb20AAAAgHkseuRIbtrvIe0GeSmfccDa2unACl1POXNrlXDQNAxoAAAADAQABAAABAQC"
        "wmLG+ZHSiLtAuUcnKbJquSKAKTw+bO4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94"
        "O4C66Vv47OU0WFowQfyJeX2+A3xUw/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02"
        "l3VsdjzgjySDfME5E4vJypor3RAl0qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttV"
        "GNC2/ptC8yWOs9g8CA0pUQWmGQ0jr3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNor"
        "P/CAFFAqM3dAStUPKTtj8wqBWh806nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDin"
        "xAAAAAAAAA+0AAAABAAAACWlkLXJzYTI1NgAAAAkAAAAFYWxpY2UAAAAAXgvhAAAAAAC"
        "Dqn6AAAAAAAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQ"
        "tYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAA"
        "AAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAARcAAAA"
        "Hc3NoLXJzYQAAAAMBAAEAAAEBAIOzQfokYZXHjhyKKUVWtHu0jWYt17vNucrIlRLokMJ"
        "Y44HmDkhuB+kpCbE6ezocb7ppS04KJXQdNdWpuxYFyIoEwN+QPw8SfyK/4NZDf4ubVaK"
        "iIdfIKyZJg8VbnOXTvPG5Ca/XjlLCitmVROBVamABIBGhKjcRdeWj69eCZg+rwIqlXca"
        "8uIgdAinFBkRTGTtARo2B/bzx0HEsjr3fmyjvRFJ691DVZtmw0jKGiUC3buPP28aKzXQ"
        "MnZ9HTk1zkEiiLw6F+cwPHI4JXqQPBve4OP3XE6UYriYid5YrTHF38SuWbwRyCMBOuY4"
        "3q2SOj8Ki4dbDzRGV9rQ2VXxIQJ8AAAEUAAAADHJzYS1zaGEyLTI1NgAAAQBgfVL2WlF"
        "GdGR4UBD3js3T8gu+ByOnSfwylSaTvL4GTn2IQ0GUu72mpdfTbWH2zKgq31ODUXwMdlz"
        "K1qFUupnguOW+28bvnMsoz3ELj4pN1cseFHNlEyHAboRAMeHeQchIa+g4e13EHyeL87Y"
        "Ze7pp6+RaoimXiNr5mRiJCO0doGcpryKewuEjXa5z6w2vYoeEnJTLgGG1SyFaCFhXVLK"
        "6F8n7jsSY05L52ns+cqkUSTkkloAIAA1KyVNK4xKPJf83FwGnTAD8E+N1d588iAVTPqd"
        "DAC2dtGt7RJBXUqBnNP+IbDdxf5jH1IXGBExNvpoJo3Df3bIji/+OqFYpIUdT user-r"
        "sa"},
    /* u_ec256 by ca_ed, id-12288, 12288, alice */
    {"serial12288",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "yNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg17e9QoM2X+uT94WjavcPSeCSJ/Bm5NM"
        "Z7Mlr0UXyQrsAAAAIbmlzdHAyNTYAAABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBp"
        "tq/YmqsQuxxPQKuJMWC8n94CXTMhWCbBrHm70fB8+xs7fy69A/DoAAAAAAAAwAAAAAAE"
        "AAAAIaWQtMTIyODgAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p+gAAAAAAAAACCAAA"
        "AFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmR"
        "pbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHk"
        "AAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAA"
        "AIFkUCXwMg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTU"
        "xOQAAAEDgdMOdztKWe4t7eD0u+Uln+WPQ0GxgMEx6FBn5IPSW/ojeCUX5R6uA9nJFQyw"
        "hxCZR589ZTR2LG1A0rFGYnrQM user-ecdsa256"},
    /* u_ec256 by ca_ed, id-1550, 1550, alice */
    {"serial1550",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "yNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgddwDwOViY1i/PVBL2frX7wlfm+5zBOr"
        "m3cyXK9roGx4AAAAIbmlzdHAyNTYAAABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBp"
        "tq/YmqsQuxxPQKuJMWC8n94CXTMhWCbBrHm70fB8+xs7fy69A/DoAAAAAAAAGDgAAAAE"
        "AAAAHaWQtMTU1MAAAAAkAAAAFYWxpY2UAAAAAXgvhAAAAAACDqn6AAAAAAAAAAIIAAAA"
        "VcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGl"
        "uZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQA"
        "AAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAA"
        "gWRQJfAyDpoothNt6dmzUPNWTyH5dMP7NVnb0YHMlRCAAAABTAAAAC3NzaC1lZDI1NTE"
        "5AAAAQCkMZL5q0sVBvXGV878WsQSK/6Za1vI/K91vPhQRwaST04oOM2XciblbE5oHyt+"
        "TR2wIOLhFwXXYbsR/mAHHjg4= user-ecdsa256"},
    /* u_ed by ca_ed, id-1600, 1600, alice */
    {"serial1600",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIN6nCe7V0Gq4hTD3KC92PpqUf3TE5PHp92yvL7T2Q3qHAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAABkAAAAABAAAAB2lkLTE"
        "2MDAAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p+gAAAAAAAAACCAAAAFXBlcm1pdC1"
        "YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmcAAAAAAAA"
        "AFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAAAAAAADnB"
        "lcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIFkUCXwMg6a"
        "KLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwAAAAtzc2gtZWQyNTUxOQAAAECTnEl"
        "/uUlKabkXwwzYsIFaE3QcZuyr4K4fFGiaY2WQxlgok2uBHuvGodlOGLScT6qWRBJy+r+"
        "IK8oI9o2XCB8P user-ed25519"},
    /* u_rsa by ca_ed, id-1601, 1601, alice */
    {"serial1601",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5"
        "jb20AAAAgpsm6UcIIJXzcUBioq8kcNf/5e6OKJfV4qN9V1+S+L3gAAAADAQABAAABAQC"
        "wmLG+ZHSiLtAuUcnKbJquSKAKTw+bO4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94"
        "O4C66Vv47OU0WFowQfyJeX2+A3xUw/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02"
        "l3VsdjzgjySDfME5E4vJypor3RAl0qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttV"
        "GNC2/ptC8yWOs9g8CA0pUQWmGQ0jr3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNor"
        "P/CAFFAqM3dAStUPKTtj8wqBWh806nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDin"
        "xAAAAAAAABkEAAAABAAAAB2lkLTE2MDEAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p"
        "+gAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWF"
        "nZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAA"
        "ACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3N"
        "zaC1lZDI1NTE5AAAAIFkUCXwMg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwA"
        "AAAtzc2gtZWQyNTUxOQAAAECCTPpXxp58Bin9vESWEtQqKtNYqA4B3Rl2WhCfLg71QJV"
        "gPSuCuaVSaDj/bk3Aqxudm7Scflil0GE5B0fHJMQB user-rsa"},
    /* u_ec521 by ca_ed, id-5004, 5004, alice */
    {"serial5004",
        "ecdsa-sha2-nistp521-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "1MjEtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgQT1kJHCA0oFaSZwg7iZtLHTeY2oHx34"
        "g1GE9REhZrn0AAAAIbmlzdHA1MjEAAACFBADMBkAUhnf/HY3r+57c4yiVvOic5f+Y4sp"
        "MTG9F/x5cOXoAS+O4xm4KK2Uk3QfjPKRQKpakZoU7NXsOIIgnAAtJvAGFV9XOPbAZ2Iq"
        "jfdveAD02BaMwjL8qw2R3+ePHnuL+nzch8AeOmF/LDPbc5oPXVT6vlHlrqGOkYqA23mm"
        "3zXd5PgAAAAAAABOMAAAAAQAAAAdpZC01MDA0AAAACQAAAAVhbGljZQAAAABeC+EAAAA"
        "AAIOqfoAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1"
        "pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAA"
        "AAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwA"
        "AAAtzc2gtZWQyNTUxOQAAACBZFAl8DIOmii2E23p2bNQ81ZPIfl0w/s1WdvRgcyVEIAA"
        "AAFMAAAALc3NoLWVkMjU1MTkAAABAkDHD77eYDAKCgPGfjqC7j2H/N0MeN9FJNwnJgS3"
        "vDLfPJiY4Y4frjk/Nz1LEckLwpvgG9P648lzs6vxVEwO+Cg== user-ecdsa521"},
    /* u_ed by ca_rsa, id-5004-rsaca, 5004, alice */
    {"serial5004rsa",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIJiDOcZj9TT6QcXnVesOFkjdCz5RkZJV+6du1xXB9QKjAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAE4wAAAABAAAADWlkLTU"
        "wMDQtcnNhY2EAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p+gAAAAAAAAACCAAAAFXB"
        "lcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW50LWZvcndhcmRpbmc"
        "AAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAAACnBlcm1pdC1wdHkAAAA"
        "AAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAEXAAAAB3NzaC1yc2EAAAADAQABAAA"
        "BAQCDs0H6JGGVx44ciilFVrR7tI1mLde7zbnKyJUS6JDCWOOB5g5IbgfpKQmxOns6HG+"
        "6aUtOCiV0HTXVqbsWBciKBMDfkD8PEn8iv+DWQ3+Lm1WioiHXyCsmSYPFW5zl07zxuQm"
        "v145SworZlUTgVWpgASARoSo3EXXlo+vXgmYPq8CKpV3GvLiIHQIpxQZEUxk7QEaNgf2"
        "88dBxLI6935so70RSevdQ1WbZsNIyholAt27jz9vGis10DJ2fR05Nc5BIoi8OhfnMDxy"
        "OCV6kDwb3uDj91xOlGK4mIneWK0xxd/Erlm8EcgjATrmON6tkjo/CouHWw80Rlfa0NlV"
        "8SECfAAABFAAAAAxyc2Etc2hhMi01MTIAAAEABYPIbGBdhbW6nufjPKMsG5D6G4aq4o0"
        "n5HQKhmbkQMl0HNhsBma8M3JwJt6WrSHhGNYME+IA00W8/cWxGEZ3ipM+TCyrcF+Cd+G"
        "OCrFmVZbRTC8p5u7rR3v58ByGOcBQdc12xJ/J5rJANph1kx8aqDb1cJjjcaFBRv9cbe0"
        "uRb5uhFVK6X69bc6RT6vxedUWKStKR3EgchgpPFBXlpCDKfJO3jR0hKar0Znlbt2ycrJ"
        "DhAuv01U8MYmzvoFeOpzRFZ4dWtEt2fQwjZR2QMMcGclFcl6bUE+jJzugL9gAhpESwi2"
        "1Y6GXaBh1UNxt/N9c43QGZA2LRBaj3wAXSSxrsw== user-ed25519"},
    /* u_rsa by ca_ed, id-5005, 5005, alice */
    {"serial5005",
        "ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5"
        "jb20AAAAgW2u6MxmDdlXehJm+InkpxuI95QoozMwZ2SjM5PFFBVgAAAADAQABAAABAQC"
        "wmLG+ZHSiLtAuUcnKbJquSKAKTw+bO4dxxTRjmursRgQpUYCxhNlqJRLRIyKpGh/5W94"
        "O4C66Vv47OU0WFowQfyJeX2+A3xUw/iQDO4Jwcdzd1HJUiKgpc6yVNvI0F+siC7oky02"
        "l3VsdjzgjySDfME5E4vJypor3RAl0qTxmYFI+qD7Jm4wI+Z6zbgOZmGTHKtMMiWkyttV"
        "GNC2/ptC8yWOs9g8CA0pUQWmGQ0jr3H+y3ElvvqYqw0FpQvprTzOHAU84X0hfV/NoNor"
        "P/CAFFAqM3dAStUPKTtj8wqBWh806nKBRfgVdJyCxNlGZ7U0taSoPzuIpH4bmaDUKDin"
        "xAAAAAAAAE40AAAABAAAAB2lkLTUwMDUAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p"
        "+gAAAAAAAAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWF"
        "nZW50LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAA"
        "ACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAAzAAAAC3N"
        "zaC1lZDI1NTE5AAAAIFkUCXwMg6aKLYTbenZs1DzVk8h+XTD+zVZ29GBzJUQgAAAAUwA"
        "AAAtzc2gtZWQyNTUxOQAAAEAbai22/GsR9w23Dts3Eo5Krc48hoczCeZyblsb5vArKed"
        "37D2STc/xJAZpjCgvx4qmnFc3H+nbN7B0P+A45SUD user-rsa"},
    /* u_ec256 by ca_ed, id-9029, 9029, alice */
    {"serial9029",
        "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHA"
        "yNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg5RPa9Nn5srJIl2CgxN2EujnTokgX8mJ"
        "Q9NxBH2XbByAAAAAIbmlzdHAyNTYAAABBBOXq42V0VwVDtdW+xTml5GWT90pUOBfBhBp"
        "tq/YmqsQuxxPQKuJMWC8n94CXTMhWCbBrHm70fB8+xs7fy69A/DoAAAAAAAAjRQAAAAE"
        "AAAAHaWQtOTAyOQAAAAkAAAAFYWxpY2UAAAAAXgvhAAAAAACDqn6AAAAAAAAAAIIAAAA"
        "VcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAAAABdwZXJtaXQtYWdlbnQtZm9yd2FyZGl"
        "uZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQA"
        "AAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAAAAAAAADMAAAALc3NoLWVkMjU1MTkAAAA"
        "gWRQJfAyDpoothNt6dmzUPNWTyH5dMP7NVnb0YHMlRCAAAABTAAAAC3NzaC1lZDI1NTE"
        "5AAAAQMSqd27KUukCkr3bCQB1pg1FG0K+lLeIiC2qW4XKIycDOZXrNOCFMdRCjav2WJB"
        "pafMe5VT2/rkOZ9LPhStqtgw= user-ecdsa256"},
    /* u_ed by ca_ed, id-crit, 4002, alice,
     * -O critical:unknown@example.com=x */
    {"unknown_crit",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIIM63PnK/70GcAXeoaqp0lFM/zWy2H+IWZSawjAz5UGuAAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAD6IAAAABAAAAB2lkLWN"
        "yaXQAAAAJAAAABWFsaWNlAAAAAF4L4QAAAAAAg6p+gAAAACAAAAATdW5rbm93bkBleGF"
        "tcGxlLmNvbQAAAAUAAAABeAAAAIIAAAAVcGVybWl0LVgxMS1mb3J3YXJkaW5nAAAAAAA"
        "AABdwZXJtaXQtYWdlbnQtZm9yd2FyZGluZwAAAAAAAAAWcGVybWl0LXBvcnQtZm9yd2F"
        "yZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAOcGVybWl0LXVzZXItcmMAAAAAAAA"
        "AAAAAADMAAAALc3NoLWVkMjU1MTkAAAAgWRQJfAyDpoothNt6dmzUPNWTyH5dMP7NVnb"
        "0YHMlRCAAAABTAAAAC3NzaC1lZDI1NTE5AAAAQEBA46d4wxrjrFK29FA1PproGSBO3R6"
        "r1YML2r1La6uwvTusmMRfKwPBezNenl10imXafLzY0E12+oqnGxVVew4= user-ed255"
        "19"},
    /* u_ed by ca_ed, id-verify, 4003, alice, -O verify-required */
    {"verify_req",
        "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjAxQG9"
        "wZW5zc2guY29tAAAAIKICGbx8ltu5LOzHVmyBJKok4qZZ/VKv6FXxXu8rdv89AAAAIMm"
        "pT1OBDFufKYWdX9z41aK6P7C4JSUf7/9b2VB0joMlAAAAAAAAD6MAAAABAAAACWlkLXZ"
        "lcmlmeQAAAAkAAAAFYWxpY2UAAAAAXgvhAAAAAACDqn6AAAAAFwAAAA92ZXJpZnktcmV"
        "xdWlyZWQAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1"
        "pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAA"
        "AAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAMwA"
        "AAAtzc2gtZWQyNTUxOQAAACBZFAl8DIOmii2E23p2bNQ81ZPIfl0w/s1WdvRgcyVEIAA"
        "AAFMAAAALc3NoLWVkMjU1MTkAAABACMlHgZ6UaeAA8yDbc+Bs3Rdll/MoJbFq9lgpSj7"
        "M7w54f/yWW6tCUACoG/j9RbaRzUSX4xBuh10RfzEqorA7AA== user-ed25519"},
};
#define FX_NCERTS (sizeof(fx_certs) / sizeof(fx_certs[0]))

static const char fx_u_ed_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDJqU9TgQxbnymFnV/c+NWiuj+wuCUlH+//W9lQdI6DJQAAAJAd6gXZHeoF\n"
    "2QAAAAtzc2gtZWQyNTUxOQAAACDJqU9TgQxbnymFnV/c+NWiuj+wuCUlH+//W9lQdI6DJQ\n"
    "AAAEDg5g2sMxVuoq/RH/Yty8Kd7XCcAjLYWj306jKrYanN58mpT1OBDFufKYWdX9z41aK6\n"
    "P7C4JSUf7/9b2VB0joMlAAAADHVzZXItZWQyNTUxOQE=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

/* KRLs as hex; each spec file is quoted. */
static const struct fx_item fx_krls[] = {
    /* -s ca_ed.pub: "serial: 1001", "serial: 1500-1600",
     * "id: revoked-id", "serial: 5000" ... "serial: 5100" (even ones),
     * "serial: 0x2000-0x2fff" */
    {"krl_ca",
        "5353484b524c0a00000000010000000000000000000000006b0163b7000000000000"
        "0000000000000000000001000000a3000000330000000b7373682d65643235353139"
        "000000205914097c0c83a68a2d84db7a766cd43cd593c87e5d30fecd5676f4607325"
        "442000000000200000000800000000000003e9210000001000000000000005dc0000"
        "000000000640220000001900000000000013880000000d1555555555555555555555"
        "5555210000001000000000000020000000000000002fff230000000e0000000a7265"
        "766f6b65642d6964"},
    /* "key: " u_ec521.pub, "sha256: " u_rsa.pub,
     * "hash: " u_other's SHA256 fingerprint, "sha1: " u_ec256.pub */
    {"krl_keys",
        "5353484b524c0a00000000010000000000000000000000006b0163b7000000000000"
        "0000000000000000000002000000b0000000ac0000001365636473612d736861322d"
        "6e69737470353231000000086e69737470353231000000850400cc0640148677ff1d"
        "8debfb9edce32895bce89ce5ff98e2ca4c4c6f45ff1e5c397a004be3b8c66e0a2b65"
        "24dd07e33ca4502a96a466853b357b0e208827000b49bc018557d5ce3db019d88aa3"
        "7ddbde003d3605a3308cbf2ac36477f9e3c79ee2fe9f3721f0078e985fcb0cf6dce6"
        "83d7553eaf94796ba863a462a036de69b7cd77793e0300000018000000145f3341db"
        "96df2dafdae5db3a4ea9573f06378d73050000004800000020080042981a67c53264"
        "918b5e5089643e6962b91754c122c931358b0c00c3940f000000201acd38c08e25a0"
        "f244ab0b2f72ba0ea37c89177d0030ca3a5e23baf54de40f68"},
    /* "key: " ca_rsa.pub */
    {"krl_carevoked",
        "5353484b524c0a00000000010000000000000000000000006b0163b7000000000000"
        "00000000000000000000020000011b00000117000000077373682d72736100000003"
        "010001000001010083b341fa246195c78e1c8a294556b47bb48d662dd7bbcdb9cac8"
        "9512e890c258e381e60e486e07e92909b13a7b3a1c6fba694b4e0a25741d35d5a9bb"
        "1605c88a04c0df903f0f127f22bfe0d6437f8b9b55a2a221d7c82b264983c55b9ce5"
        "d3bcf1b909afd78e52c28ad99544e0556a60012011a12a371175e5a3ebd782660fab"
        "c08aa55dc6bcb8881d0229c5064453193b40468d81fdbcf1d0712c8ebddf9b28ef44"
        "527af750d566d9b0d232868940b76ee3cfdbc68acd740c9d9f474e4d739048a22f0e"
        "85f9cc0f1c8e095ea40f06f7b838fdd713a518ae262277962b4c7177f12b966f0472"
        "08c04eb98e37ab648e8fc2a2e1d6c3cd1195f6b436557c48409f"},
    /* krl_ca, then -k -u -s ca_rsa.pub: "serial: 1002" */
    {"krl_multi",
        "5353484b524c0a00000000010000000000000000000000006b0163b7000000000000"
        "0000000000000000000001000000a3000000330000000b7373682d65643235353139"
        "000000205914097c0c83a68a2d84db7a766cd43cd593c87e5d30fecd5676f4607325"
        "442000000000200000000800000000000003e9210000001000000000000005dc0000"
        "000000000640220000001900000000000013880000000d1555555555555555555555"
        "5555210000001000000000000020000000000000002fff230000000e0000000a7265"
        "766f6b65642d6964010000012c00000117000000077373682d727361000000030100"
        "01000001010083b341fa246195c78e1c8a294556b47bb48d662dd7bbcdb9cac89512"
        "e890c258e381e60e486e07e92909b13a7b3a1c6fba694b4e0a25741d35d5a9bb1605"
        "c88a04c0df903f0f127f22bfe0d6437f8b9b55a2a221d7c82b264983c55b9ce5d3bc"
        "f1b909afd78e52c28ad99544e0556a60012011a12a371175e5a3ebd782660fabc08a"
        "a55dc6bcb8881d0229c5064453193b40468d81fdbcf1d0712c8ebddf9b28ef44527a"
        "f750d566d9b0d232868940b76ee3cfdbc68acd740c9d9f474e4d739048a22f0e85f9"
        "cc0f1c8e095ea40f06f7b838fdd713a518ae262277962b4c7177f12b966f047208c0"
        "4eb98e37ab648e8fc2a2e1d6c3cd1195f6b436557c48409f00000000200000000800"
        "000000000003ea"},
    /* ssh-keygen -k -f krl_files u_other.pub rsa_ecca.cert
     * forever.cert (the files themselves) */
    {"krl_files",
        "5353484b524c0a00000000010000000000000000000000006b0163ba000000000000"
        "00000000000000000000010000009d000000880000001365636473612d736861322d"
        "6e69737470333834000000086e69737470333834000000610428cd884bd62ca2a115"
        "25398be6aba9b2f6db745adaf36180a8f2c52a9ad603c4868f0564dcf0bd0548d847"
        "1272e4e7f8bdf0cd61188c7f512f7b96bec4564dbf4e100aea070ca83ca39de693fd"
        "52d307fe76a518d8d2ce9cbc9b7a81c4e77406000000002000000008000000000000"
        "03eb010000004e000000330000000b7373682d65643235353139000000205914097c"
        "0c83a68a2d84db7a766cd43cd593c87e5d30fecd5676f46073254420000000002300"
        "00000e0000000a7265766f6b65642d69640200000037000000330000000b7373682d"
        "65643235353139000000205fe64b5a5e9e13045ec5127672d84e6f8841f080243f70"
        "c3f49f799c4055282e"},
};
#define FX_NKRLS (sizeof(fx_krls) / sizeof(fx_krls[0]))

struct fx_verdict {
	const char *krl;
	const char *item; /* a fx_keys or fx_certs name */
	int revoked;
};

/* ssh-keygen -Q -f KRL ITEM: 1 for "REVOKED", 0 for "ok". */
static const struct fx_verdict fx_verdicts[] = {
    {"krl_ca", "ca_ed", 0},
    {"krl_ca", "ca_rsa", 0},
    {"krl_ca", "ca_ec", 0},
    {"krl_ca", "u_ed", 0},
    {"krl_ca", "u_ec256", 0},
    {"krl_ca", "u_ec521", 0},
    {"krl_ca", "u_rsa", 0},
    {"krl_ca", "u_other", 0},
    {"krl_ca", "clear_pty", 0},
    {"krl_ca", "ec256_rsaca", 0},
    {"krl_ca", "ec521_edca", 0},
    {"krl_ca", "ed_full", 1},
    {"krl_ca", "expired", 0},
    {"krl_ca", "forever", 1},
    {"krl_ca", "future", 0},
    {"krl_ca", "host", 0},
    {"krl_ca", "noprinc", 0},
    {"krl_ca", "restricted", 0},
    {"krl_ca", "rsa_ecca", 0},
    {"krl_ca", "rsa_sha1", 0},
    {"krl_ca", "rsa_sha256", 0},
    {"krl_ca", "serial12288", 0},
    {"krl_ca", "serial1550", 1},
    {"krl_ca", "serial1600", 1},
    {"krl_ca", "serial1601", 0},
    {"krl_ca", "serial5004", 1},
    {"krl_ca", "serial5004rsa", 0},
    {"krl_ca", "serial5005", 0},
    {"krl_ca", "serial9029", 1},
    {"krl_ca", "unknown_crit", 0},
    {"krl_ca", "verify_req", 0},
    {"krl_keys", "ca_ed", 0},
    {"krl_keys", "ca_rsa", 0},
    {"krl_keys", "ca_ec", 0},
    {"krl_keys", "u_ed", 0},
    {"krl_keys", "u_ec256", 1},
    {"krl_keys", "u_ec521", 1},
    {"krl_keys", "u_rsa", 1},
    {"krl_keys", "u_other", 1},
    {"krl_keys", "clear_pty", 0},
    {"krl_keys", "ec256_rsaca", 1},
    {"krl_keys", "ec521_edca", 1},
    {"krl_keys", "ed_full", 0},
    {"krl_keys", "expired", 0},
    {"krl_keys", "forever", 1},
    {"krl_keys", "future", 0},
    {"krl_keys", "host", 0},
    {"krl_keys", "noprinc", 0},
    {"krl_keys", "restricted", 1},
    {"krl_keys", "rsa_ecca", 1},
    {"krl_keys", "rsa_sha1", 1},
    {"krl_keys", "rsa_sha256", 1},
    {"krl_keys", "serial12288", 1},
    {"krl_keys", "serial1550", 1},
    {"krl_keys", "serial1600", 0},
    {"krl_keys", "serial1601", 1},
    {"krl_keys", "serial5004", 1},
    {"krl_keys", "serial5004rsa", 0},
    {"krl_keys", "serial5005", 1},
    {"krl_keys", "serial9029", 1},
    {"krl_keys", "unknown_crit", 0},
    {"krl_keys", "verify_req", 0},
    {"krl_carevoked", "ca_ed", 0},
    {"krl_carevoked", "ca_rsa", 1},
    {"krl_carevoked", "ca_ec", 0},
    {"krl_carevoked", "u_ed", 0},
    {"krl_carevoked", "u_ec256", 0},
    {"krl_carevoked", "u_ec521", 0},
    {"krl_carevoked", "u_rsa", 0},
    {"krl_carevoked", "u_other", 0},
    {"krl_carevoked", "clear_pty", 0},
    {"krl_carevoked", "ec256_rsaca", 1},
    {"krl_carevoked", "ec521_edca", 0},
    {"krl_carevoked", "ed_full", 0},
    {"krl_carevoked", "expired", 0},
    {"krl_carevoked", "forever", 0},
    {"krl_carevoked", "future", 0},
    {"krl_carevoked", "host", 0},
    {"krl_carevoked", "noprinc", 0},
    {"krl_carevoked", "restricted", 0},
    {"krl_carevoked", "rsa_ecca", 0},
    {"krl_carevoked", "rsa_sha1", 1},
    {"krl_carevoked", "rsa_sha256", 1},
    {"krl_carevoked", "serial12288", 0},
    {"krl_carevoked", "serial1550", 0},
    {"krl_carevoked", "serial1600", 0},
    {"krl_carevoked", "serial1601", 0},
    {"krl_carevoked", "serial5004", 0},
    {"krl_carevoked", "serial5004rsa", 1},
    {"krl_carevoked", "serial5005", 0},
    {"krl_carevoked", "serial9029", 0},
    {"krl_carevoked", "unknown_crit", 0},
    {"krl_carevoked", "verify_req", 0},
    {"krl_multi", "ca_ed", 0},
    {"krl_multi", "ca_rsa", 0},
    {"krl_multi", "ca_ec", 0},
    {"krl_multi", "u_ed", 0},
    {"krl_multi", "u_ec256", 0},
    {"krl_multi", "u_ec521", 0},
    {"krl_multi", "u_rsa", 0},
    {"krl_multi", "u_other", 0},
    {"krl_multi", "clear_pty", 0},
    {"krl_multi", "ec256_rsaca", 1},
    {"krl_multi", "ec521_edca", 0},
    {"krl_multi", "ed_full", 1},
    {"krl_multi", "expired", 0},
    {"krl_multi", "forever", 1},
    {"krl_multi", "future", 0},
    {"krl_multi", "host", 0},
    {"krl_multi", "noprinc", 0},
    {"krl_multi", "restricted", 0},
    {"krl_multi", "rsa_ecca", 0},
    {"krl_multi", "rsa_sha1", 0},
    {"krl_multi", "rsa_sha256", 0},
    {"krl_multi", "serial12288", 0},
    {"krl_multi", "serial1550", 1},
    {"krl_multi", "serial1600", 1},
    {"krl_multi", "serial1601", 0},
    {"krl_multi", "serial5004", 1},
    {"krl_multi", "serial5004rsa", 0},
    {"krl_multi", "serial5005", 0},
    {"krl_multi", "serial9029", 1},
    {"krl_multi", "unknown_crit", 0},
    {"krl_multi", "verify_req", 0},
    {"krl_files", "ca_ed", 0},
    {"krl_files", "ca_rsa", 0},
    {"krl_files", "ca_ec", 0},
    {"krl_files", "u_ed", 0},
    {"krl_files", "u_ec256", 0},
    {"krl_files", "u_ec521", 0},
    {"krl_files", "u_rsa", 0},
    {"krl_files", "u_other", 1},
    {"krl_files", "clear_pty", 0},
    {"krl_files", "ec256_rsaca", 0},
    {"krl_files", "ec521_edca", 0},
    {"krl_files", "ed_full", 0},
    {"krl_files", "expired", 0},
    {"krl_files", "forever", 1},
    {"krl_files", "future", 0},
    {"krl_files", "host", 0},
    {"krl_files", "noprinc", 0},
    {"krl_files", "restricted", 0},
    {"krl_files", "rsa_ecca", 1},
    {"krl_files", "rsa_sha1", 0},
    {"krl_files", "rsa_sha256", 0},
    {"krl_files", "serial12288", 0},
    {"krl_files", "serial1550", 0},
    {"krl_files", "serial1600", 0},
    {"krl_files", "serial1601", 0},
    {"krl_files", "serial5004", 0},
    {"krl_files", "serial5004rsa", 0},
    {"krl_files", "serial5005", 0},
    {"krl_files", "serial9029", 0},
    {"krl_files", "unknown_crit", 0},
    {"krl_files", "verify_req", 0},
};
#define FX_NVERDICTS (sizeof(fx_verdicts) / sizeof(fx_verdicts[0]))

#endif
