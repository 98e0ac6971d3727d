/* pem_fixtures.h: private keys in PEM and PKCS#8 (ssh-keygen -m PEM/PKCS8,
 * openssl genpkey) with their public keys, for test_sshkey_pem.c. */
static const char ec256_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIO4G2G6K1klrzjw0K5xFBWgQYgiNsoqOA9st5Sj0ZXyMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEL6ib/RKnMUb3QMYnEEg0rJeDb7cESE5pHK4M21S8L62sW2k76Xgp\n"
    "cocbiqvmIQ6x41auZo+YHsOk4ZPNGe4A6Q==\n"
    "-----END EC PRIVATE KEY-----\n";

static const char ec256_pem_pub[] =
    "ecdsa-sha2-nistp256 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBC+om/"
    "0SpzFG90DGJxBINKyXg2+3BEhOaRyuDNtUvC+trFtpO+"
    "l4KXKHG4qr5iEOseNWrmaPmB7DpOGTzRnuAOk=";

static const char ec384_pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCI4AqbWSBuAljKZyuR\n"
    "cNvmyDK0KAlR12iXDga06P6wj6JBlEqnUH8XknjjwF2xoUShZANiAAR6GWdWuTnf\n"
    "xo/DGTikV71d7Ltv2c6rYBF0RUsndFAaWYWwcjWjRj48nVD2+GcLE4+1Yc+gbJgB\n"
    "NuoyUN6xWLTk3EuHNPkXpfaOtuaWVJ1W9QrwgdkDN9cc7LT6OuUrvcM=\n"
    "-----END PRIVATE KEY-----\n";

static const char ec384_pkcs8_pub[] =
    "ecdsa-sha2-nistp384 "
    "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBHoZZ1a5Od/"
    "Gj8MZOKRXvV3su2/"
    "ZzqtgEXRFSyd0UBpZhbByNaNGPjydUPb4ZwsTj7Vhz6BsmAE26jJQ3rFYtOTcS4c0+"
    "Rel9o625pZUnVb1CvCB2QM31xzstPo65Su9ww==";

static const char rsa_pem[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXAIBAAKBgQCkuC5pHAmU/lNSLH6UWun8qMmfvI1PZCGKxY7uhUTSsuUlS00i\n"
    "S8dcKbkCn/7hT+D7fF5nN+3vhrwA6h+uulmhHESSJF/FJ9En8o+3a2BeC6+5LWi2\n"
    "gwXpe78qKg/cRNbfd+hAUh1EpCQ3PZLnsl5HJcIrawwbP4Ga9ir4mVLRHwIDAQAB\n"
    "AoGAdEOUbphdow7IXO4PAkQReEbi2Z7K10jD7CF5u53RcC7ZUrON5DE8rC6+6b1o\n"
    "uDwbfybPs2dkyHZ/aN3YMwpRjCYxtGvcaJg2eJsS8SiqJKL14JXi4+X5uWBFmew/\n"
    "oz6RLw7TQLdHfmaU6k8CR6TNLm44Iyr0W1wCE0mDao9/9sECQQDWYuGjaW92zmtP\n"
    "2CpyDFV6mGPmy9fhNsgnWnHe2n5CXZ/RBdCwP62hZq9bYQNAt+iRlA1VHHRP1OMH\n"
    "dYFZqqxRAkEAxLFLkuZCzi5UoPh/ndonEKaukMjjw1OAEFFQ5N91G7Ivs8ywdOpz\n"
    "/XFA+uhDFV5RloBZBMWRhyue/2sNh5v6bwJBAMu8MqRCCZyFNDQvwL6bfAxCkAYA\n"
    "SAsOLY5AhKB9UamuIbfZZ+ZmzZHp7NHRUu8JFypp4XW10c8gCBTJlYBqEtECQADj\n"
    "bBv1vkeAHhG8DZeA7Lw+hHtS7PRs5B8uvtbJy5WccGq3efSNOojighCgC+2Ex4mO\n"
    "ethyq/2YTNeKfD0ojzECQH3wB4sFxrlvfcKugyBjCHcesNnKEZQ+GfxRdOIAB+F5\n"
    "NimFCHQxT2eg4LUygySfrEb5K2Ruw/MqZYFHpAszP4A=\n"
    "-----END RSA PRIVATE KEY-----\n";

static const char rsa_pem_pub[] =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCkuC5pHAmU/"
    "lNSLH6UWun8qMmfvI1PZCGKxY7uhUTSsuUlS00iS8dcKbkCn/"
    "7hT+D7fF5nN+3vhrwA6h+uulmhHESSJF/FJ9En8o+3a2BeC6+5LWi2gwXpe78qKg/"
    "cRNbfd+hAUh1EpCQ3PZLnsl5HJcIrawwbP4Ga9ir4mVLRHw==";

static const char rsa_pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALDUyEUAzrXhNdRx\n"
    "ehD+eldglH5lNvVPameJ0x5CL0ZAXqVSI2aCR226NKbLuKlnDFQRZIUmQC/zotNm\n"
    "tPWCUGJbkfdywJiKSzh94j4B3KktjSllLMgbHGNMg1T2rkvVjAmxzrBSusTU33k4\n"
    "CNp6qx9lnlSkVZYX27g7pb/6J2l3AgMBAAECgYEAqIYBXxHH7rp1TMPg63U7Ly7S\n"
    "Fitr1xoadBZ752h4GWGbUb8YEcezPzWonBWnJXsZ2rzAqcyse4ab9RD7AMdyxtQb\n"
    "QlOoJptqfCMUY/vpTLoWQaKNa4CD2wx3sxWhNZ8rld5yPS7Y94Un4bnoGDx6mJDA\n"
    "3EjB2YZVpQsTiEPpG3ECQQDgF+7PR2vzPZfUpLVHH/RZkaGai7NLEVZIBfJz2TaG\n"
    "KA2QLwKC8LWg/F7spnZwG88gi7xr/NIPgmCywl5aa9RtAkEAygIrAcihrUWvGUPu\n"
    "lyeZaO95GSgzW1qxAeNa/yeR1CcIOxGAvMEKZgA9wfyTv5cWtabAi5NT3YdTBewl\n"
    "rYge8wJARN9WKCJ9TP7LITGV/UwW30hg8IyrCBFGAVDCmVRS65x3vq6UCQZN7DJk\n"
    "QjtO/1msqQYJXO8Q6G9bpNUUBppJaQJAZ0V0dxT6knptaZ0w/FViOCM05YeHucxD\n"
    "cZOpkYfJJYxOyOPJzLVje4HkEKfvYKL9GSCGjtRiq33jE8QF/xD3wQJAdXTDy4ed\n"
    "EAjfQMocDOD79gKBjfbQichyQtiPrVjHWxxPxDLNlr1PE3rjicBoCxWvY3AHdhcR\n"
    "Kn+zXmMPXFGpHg==\n"
    "-----END PRIVATE KEY-----\n";

static const char rsa_pkcs8_pub[] =
    "ssh-rsa "
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQCw1MhFAM614TXUcXoQ/"
    "npXYJR+"
    "ZTb1T2pnidMeQi9GQF6lUiNmgkdtujSmy7ipZwxUEWSFJkAv86LTZrT1glBiW5H3csCYiks4fe"
    "I+AdypLY0pZSzIGxxjTINU9q5L1YwJsc6wUrrE1N95OAjaeqsfZZ5UpFWWF9u4O6W/"
    "+idpdw==";

static const char ed25519_pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEII3UYgWZPtvmC+NCfwOqso/0+Pq6cR+6svjvyMkjJAkb\n"
    "-----END PRIVATE KEY-----\n";

static const char ed25519_pkcs8_pub[] =
    "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAIOdizH919N89tpBgi9NnQ8kvFj/dZ2o1X3lIl43G75XW";

static const char enc_pkcs8[] =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjt4Ox3OWrDzwICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEAQIEEHJasAOlOAkL3RGRfVF8C4QEgZC9\n"
    "WlQ3KhytyyZuxZjxyi0bPIGfHyshPHk9/6llW59X/BRNSnyIvXf+RY1HtDOpR+Qk\n"
    "wMFVJ9QTAVdsOfjbXxikhj43QXafGTWf7lxVAZ1N/kZ26x4fuya/CekmHV8UuKsI\n"
    "E4gUKggZKE93Lx969pbcJdTiWWz0KFbwDzsLoPZLM88ofUhv2fqEGjLfDCbeHBw=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

/* A traditional EC PEM key encrypted with AES-128-CBC ("Proc-Type"). */
static const char enc_ec_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,E3FEC0A09ED244889BF9F71CC05B1783\n"
    "\n"
    "MhMA3Ij13crkciZJsxzd69VAuReCOF0LXkom8a0H/wYOefoMGPZ06ZSQaMPWSPRw\n"
    "+u0/U51oF2xbuwW7WFm8HinkWpkCMEu08VMle/fjtkBS2taLOOVvrOw9P2Lf4t2j\n"
    "GX9kP/RUJa3wpdBV7TLkHxahhAWBNvbSNwHBTYuw2+0=\n"
    "-----END EC PRIVATE KEY-----\n";

/* A curve SSH has no name for (secp256k1). */
static const char k1_pkcs8[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgFZLPHP6NUiRtOWAGeeWZ\n"
    "34punku62enXJrUSd1Eogu2hRANCAAQbLMrx18pwKxqnk9+BTq0ZrX9cMIA3cAmt\n"
    "rEW+YPWfrkvii8u59f2cBkj85Q4QinJeNnoiC2bimQi0y7YJbEIM\n"
    "-----END PRIVATE KEY-----\n";
