/*
 * cert_fixtures_skca.h: certificates signed by a FIDO CA, made with
 * OpenSSH_9.2p1's ssh-keygen and the test authenticator (tests/sk):
 * ssh-keygen -t ed25519-sk|ecdsa-sk -w soft_sk.so (CAs skca_ed, skca_ec),
 * then SSH_SK_PROVIDER=soft_sk.so ssh-keygen -s CA -I fx-skca-ed|ec
 * -n alice -z 21|22 over one ssh-ed25519 user key, valid forever.
 */
#ifndef POSTERN_CERT_FIXTURES_SKCA_H
#define POSTERN_CERT_FIXTURES_SKCA_H

static const char skca_ed_pub[] =
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY"
    "29tAAAAIFfNgIzc1pitfzLRML8K955Rx2AoZhrJcfXu/ySp3GYVAAAABHNzaDo=";

static const char skca_ec_pub[] =
    "sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzd"
    "HAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTYAAABBBBZ3XBwaGY/L3wQBbcPpq"
    "VkQpvdraH722NuYdUFRa4QzZJQpD2EI9aAQDmrDS9DFSjsiWDnXYH3DW0DZnIsMN"
    "KgAAAAEc3NoOg==";

static const char skca_ed_cert[] =
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjA"
    "xQG9wZW5zc2guY29tAAAAICTLt0URyoMpqGaK/0QbYvaJrw/5JEY7s8IrBy1Yz0H"
    "0AAAAILSZ4GJJsb8ncaUSu4fAKgtyohFKyGiM7E75G42y5IytAAAAAAAAABUAAAA"
    "BAAAACmZ4LXNrY2EtZWQAAAAJAAAABWFsaWNlAAAAAAAAAAD//////////wAAAAA"
    "AAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW5"
    "0LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAA"
    "ACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAABKAAA"
    "AGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIFfNgIzc1pitfzLRML8K955"
    "Rx2AoZhrJcfXu/ySp3GYVAAAABHNzaDoAAABnAAAAGnNrLXNzaC1lZDI1NTE5QG9"
    "wZW5zc2guY29tAAAAQM9MU12DyboqUULPYjCpDX8ky4q/zbyV3qFzjLNgpyXDlEa"
    "SCucBDjZZ5hJvQpwcWtEC/AcHldxujx8mePFhOAkBAAAAAQ==";

static const char skca_ec_cert[] =
    "ssh-ed25519-cert-v01@openssh.com AAAAIHNzaC1lZDI1NTE5LWNlcnQtdjA"
    "xQG9wZW5zc2guY29tAAAAINteczl6TpAIxSFId86+k8MqxENSyJQVh7TjwnGwPsD"
    "iAAAAILSZ4GJJsb8ncaUSu4fAKgtyohFKyGiM7E75G42y5IytAAAAAAAAABYAAAA"
    "BAAAACmZ4LXNrY2EtZWMAAAAJAAAABWFsaWNlAAAAAAAAAAD//////////wAAAAA"
    "AAACCAAAAFXBlcm1pdC1YMTEtZm9yd2FyZGluZwAAAAAAAAAXcGVybWl0LWFnZW5"
    "0LWZvcndhcmRpbmcAAAAAAAAAFnBlcm1pdC1wb3J0LWZvcndhcmRpbmcAAAAAAAA"
    "ACnBlcm1pdC1wdHkAAAAAAAAADnBlcm1pdC11c2VyLXJjAAAAAAAAAAAAAAB/AAA"
    "AInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20AAAAIbmlzdHAyNTY"
    "AAABBBBZ3XBwaGY/L3wQBbcPpqVkQpvdraH722NuYdUFRa4QzZJQpD2EI9aAQDmr"
    "DS9DFSjsiWDnXYH3DW0DZnIsMNKgAAAAEc3NoOgAAAHgAAAAic2stZWNkc2Etc2h"
    "hMi1uaXN0cDI1NkBvcGVuc3NoLmNvbQAAAEkAAAAgA4rG4DXnNFC+TUAZO6V+ut7"
    "vDcGTCSVIvHu5pKPnOWEAAAAhAKubQWrox1WkX2MNPx+q/Vrv7fVft5VDnkhqMw9"
    "UkqNCAQAAAAE=";

#endif
