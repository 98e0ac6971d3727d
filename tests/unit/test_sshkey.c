/*
 * test_sshkey.c: key blobs, fingerprints, signatures and private key files
 * against fixtures made by OpenSSH's ssh-keygen and RFC 8032 vectors.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "buf.h"
#include "crypto.h"
#include "err.h"
#include "sshkey.h"
#include "tests/unit/t.h"

/* Generated with ssh-keygen (OpenSSH 9.2p1): keys, -lf, -Y sign -n test. */
static const char ed25519_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDiKCcaBZkN06prAYXVtB7iqqaAMOu1RB7lgclDj7ToBwAAAJi31lmmt9ZZ\n"
    "pgAAAAtzc2gtZWQyNTUxOQAAACDiKCcaBZkN06prAYXVtB7iqqaAMOu1RB7lgclDj7ToBw\n"
    "AAAEBFD0sFbSiBKV/1U8pnFS8qiEEs2KDuBkGthbZQBZ1Y6uIoJxoFmQ3TqmsBhdW0HuKq\n"
    "poAw67VEHuWByUOPtOgHAAAAFHRlc3QtZWQyNTUxOUBwb3N0ZXJuAQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char ed25519_pub[] =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOIoJxoFmQ3TqmsBhdW0HuKqpoAw67VEHu"
    "WByUOPtOgH test-ed25519@postern";

static const char ed25519_fp[] =
    "SHA256:l5Gke7yQFX4h9RJWxe26eg++Mp/ynBHmFYDYWh+D8Ck";

static const char ed25519_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg4ignGgWZDdOqawGF1bQe4qqmgD\n"
    "DrtUQe5YHJQ4+06AcAAAAEdGVzdAAAAAAAAAAGc2hhNTEyAAAAUwAAAAtzc2gtZWQyNTUx\n"
    "OQAAAECyOWWKDUnvTeIuYka77DHh8CF9Ka8VWds5pL52WA2gm9NcOnRiuR7PoUJXbYumm9\n"
    "tHTwshxgL4JXx5hjqczR4M\n"
    "-----END SSH SIGNATURE-----\n";

static const char ecdsa256_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAaAAAABNlY2RzYS\n"
    "1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQR77jz5GTzPMCKoE6b2EJZ2qnDhv04D\n"
    "jQqVsLmkVRJs+8Gvz1+fgcVlw0UPRromUw7KUQJP6YGKpS82H+2JdQCzAAAAsFa2HOhWth\n"
    "zoAAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHvuPPkZPM8wIqgT\n"
    "pvYQlnaqcOG/TgONCpWwuaRVEmz7wa/PX5+BxWXDRQ9GuiZTDspRAk/pgYqlLzYf7Yl1AL\n"
    "MAAAAgQ///CY3rz8GGI+sMSTTTCNtgL+6T3J6SZvQ0682IGUwAAAAVdGVzdC1lY2RzYTI1\n"
    "NkBwb3N0ZXJuAQID\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char ecdsa256_pub[] =
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAA"
    "BBBHvuPPkZPM8wIqgTpvYQlnaqcOG/TgONCpWwuaRVEmz7wa/PX5+BxWXDRQ9GuiZTDspR"
    "Ak/pgYqlLzYf7Yl1ALM= test-ecdsa256@postern";

static const char ecdsa256_fp[] =
    "SHA256:fLAprTmVPx7pzamM130lkXsIM1zhIC+ApxXw4uFY9IE";

static const char ecdsa256_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAE\n"
    "EEe+48+Rk8zzAiqBOm9hCWdqpw4b9OA40KlbC5pFUSbPvBr89fn4HFZcNFD0a6JlMOylEC\n"
    "T+mBiqUvNh/tiXUAswAAAAR0ZXN0AAAAAAAAAAZzaGE1MTIAAABkAAAAE2VjZHNhLXNoYT\n"
    "ItbmlzdHAyNTYAAABJAAAAICg8KUgslHcjHXrCq3DHqXiXDhWt3Z2gp7lZkEfaT5FSAAAA\n"
    "IQCqCQdS9TveozBX5qewhHQDNyflMFzN6GRKNHx8Hyq5dg==\n"
    "-----END SSH SIGNATURE-----\n";

static const char ecdsa384_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAiAAAABNlY2RzYS\n"
    "1zaGEyLW5pc3RwMzg0AAAACG5pc3RwMzg0AAAAYQRiSfzvX7wuBEbbHrvJHhQb9yIYUpY0\n"
    "4KKGmbeEZhOhY7wmUsjRVJnGREzSjrX11Ze2EEkjaDq0cyCc5Wq1NvCOI98Pxh7CCpVTJk\n"
    "rlM6JnmH7Xfoo2f9INo84ks3eeGswAAADgnaccPp2nHD4AAAATZWNkc2Etc2hhMi1uaXN0\n"
    "cDM4NAAAAAhuaXN0cDM4NAAAAGEEYkn871+8LgRG2x67yR4UG/ciGFKWNOCihpm3hGYToW\n"
    "O8JlLI0VSZxkRM0o619dWXthBJI2g6tHMgnOVqtTbwjiPfD8YewgqVUyZK5TOiZ5h+136K\n"
    "Nn/SDaPOJLN3nhrMAAAAMDfQPrdKqLBdKkR9zrPgTBbGkj+/46Y8A20FGxc2RLSNxzWa1Y\n"
    "SkJzZs6358/zTS1QAAABV0ZXN0LWVjZHNhMzg0QHBvc3Rlcm4BAgM=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char ecdsa384_pub[] =
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAA"
    "BhBGJJ/O9fvC4ERtseu8keFBv3IhhSljTgooaZt4RmE6FjvCZSyNFUmcZETNKOtfXVl7YQ"
    "SSNoOrRzIJzlarU28I4j3w/GHsIKlVMmSuUzomeYftd+ijZ/0g2jziSzd54azA== test-"
    "ecdsa384@postern";

static const char ecdsa384_fp[] =
    "SHA256:YQjdOLLohJ8jme5bIjeeIUxTMB/e7A5pzX2cSb7ST8o";

static const char ecdsa384_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAIgAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAAhuaXN0cDM4NAAAAG\n"
    "EEYkn871+8LgRG2x67yR4UG/ciGFKWNOCihpm3hGYToWO8JlLI0VSZxkRM0o619dWXthBJ\n"
    "I2g6tHMgnOVqtTbwjiPfD8YewgqVUyZK5TOiZ5h+136KNn/SDaPOJLN3nhrMAAAABHRlc3\n"
    "QAAAAAAAAABnNoYTUxMgAAAIUAAAATZWNkc2Etc2hhMi1uaXN0cDM4NAAAAGoAAAAxAL4C\n"
    "YFs2x/Ng18p1zvIEg0jnrGGNwXSPY2ZYmsIf9u0VOaLKmvCqdlKJa/ST5xSQpQAAADEA2l\n"
    "D6m+qJGwhIfnyWPYQppqYqg0BNgQtWIoeUBRosH2IhNtLLP+GkD2iug9xaODuU\n"
    "-----END SSH SIGNATURE-----\n";

static const char ecdsa521_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAArAAAABNlY2RzYS\n"
    "1zaGEyLW5pc3RwNTIxAAAACG5pc3RwNTIxAAAAhQQA3ZcO2nyPMgwyIMg1q3gL/ZIh4S4P\n"
    "NUPmpnRks71RdITIB1/ZO27kwL3FjNkbTEzxNcSWYRvRou+KCnaY56DX8AQBK5aRFz8O2Y\n"
    "UprV/PFGu2XjO0Iy5GvU4emKGXwlOHLGvU4SAqroGhVSsWK7v10S1N+82SoAdNtMHHQObs\n"
    "KiYTTcsAAAEYiduYZonbmGYAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQ\n"
    "AAAIUEAN2XDtp8jzIMMiDINat4C/2SIeEuDzVD5qZ0ZLO9UXSEyAdf2Ttu5MC9xYzZG0xM\n"
    "8TXElmEb0aLvigp2mOeg1/AEASuWkRc/DtmFKa1fzxRrtl4ztCMuRr1OHpihl8JThyxr1O\n"
    "EgKq6BoVUrFiu79dEtTfvNkqAHTbTBx0Dm7ComE03LAAAAQgGqRfYQ62Aqx9dl3LF6IQtu\n"
    "hOsxzVbu3ZFpp2MvaBIR3967s4eyt86mKfpcQu9+87tr9wonBRNLCT6hpf5dRS2ZVAAAAB\n"
    "V0ZXN0LWVjZHNhNTIxQHBvc3Rlcm4BAgMEBQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char ecdsa521_pub[] =
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAA"
    "CFBADdlw7afI8yDDIgyDWreAv9kiHhLg81Q+amdGSzvVF0hMgHX9k7buTAvcWM2RtMTPE1"
    "xJZhG9Gi74oKdpjnoNfwBAErlpEXPw7ZhSmtX88Ua7ZeM7QjLka9Th6YoZfCU4csa9ThIC"
    "qugaFVKxYru/XRLU37zZKgB020wcdA5uwqJhNNyw== test-ecdsa521@postern";

static const char ecdsa521_fp[] =
    "SHA256:hr+w9MvKeUm98CNgQgngxpqhLJcL5AGn1uH/AtoTMtQ";

static const char ecdsa521_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAKwAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAAhuaXN0cDUyMQAAAI\n"
    "UEAN2XDtp8jzIMMiDINat4C/2SIeEuDzVD5qZ0ZLO9UXSEyAdf2Ttu5MC9xYzZG0xM8TXE\n"
    "lmEb0aLvigp2mOeg1/AEASuWkRc/DtmFKa1fzxRrtl4ztCMuRr1OHpihl8JThyxr1OEgKq\n"
    "6BoVUrFiu79dEtTfvNkqAHTbTBx0Dm7ComE03LAAAABHRlc3QAAAAAAAAABnNoYTUxMgAA\n"
    "AKYAAAATZWNkc2Etc2hhMi1uaXN0cDUyMQAAAIsAAABBOqHRrpTLW6Mic0AJFQk+nZlqaa\n"
    "kpbng8HNna7XK5DwT0D6c99XIcFxJUalBLpp3xg7lgc+eqx9+z9oOu3eZr3F4AAABCAK+W\n"
    "FpMx7uKUQTzIMWnlg/oCypIdSJQgtRi4fB8cy1EdJrADL+QS17E/NLBlYSSZUinaSM0Jw/\n"
    "YDyodyGHjP8rcS\n"
    "-----END SSH SIGNATURE-----\n";

static const char rsa2048_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABFwAAAAdzc2gtcn\n"
    "NhAAAAAwEAAQAAAQEArx8F2uv9hIYgJnqfeIJHjLW92IsmtcdPEgmDxnmBYJiIGr0YJnE5\n"
    "dhHlMDxaQ5DC5/QYN7YGOceY9R6ngBJEgo478QfpA1uyJ4MEF+hKJ3BrUhgxvrA/iPzsFT\n"
    "H260KXg5blKRrSZ9NAP8+6ORLnollm8gFU45tZgPLPdJ9uuDr/bFHkg7J4Wj99GWjJzrDu\n"
    "Pez8y9QzWDre3suinyifdDwxpdEDVdvM55oTlTfcMO2SIdZdjFCXpn1BOrjjSEGNeXivCs\n"
    "copYWVfdxzlIexe+/XCnwEJ7Ut0bmdgasYEP9qEADb/v5v+C4bzJY9nju3h8wcj7Y+SCaN\n"
    "1nxic8QDiQAAA9DaM5k92jOZPQAAAAdzc2gtcnNhAAABAQCvHwXa6/2EhiAmep94gkeMtb\n"
    "3Yiya1x08SCYPGeYFgmIgavRgmcTl2EeUwPFpDkMLn9Bg3tgY5x5j1HqeAEkSCjjvxB+kD\n"
    "W7IngwQX6EoncGtSGDG+sD+I/OwVMfbrQpeDluUpGtJn00A/z7o5EueiWWbyAVTjm1mA8s\n"
    "90n264Ov9sUeSDsnhaP30ZaMnOsO497PzL1DNYOt7ey6KfKJ90PDGl0QNV28znmhOVN9ww\n"
    "7ZIh1l2MUJemfUE6uONIQY15eK8KxyilhZV93HOUh7F779cKfAQntS3RuZ2BqxgQ/2oQAN\n"
    "v+/m/4LhvMlj2eO7eHzByPtj5IJo3WfGJzxAOJAAAAAwEAAQAAAQABOUxHLWMGLBHJcw3u\n"
    "P6rUVujOvJo2pv/sdliPaIX48Nfyp+OlUSE/q/xYC/PtiPNzv4bzzLfaa4SsIdy1zmrgJr\n"
    "JQiueb+GYUVJwQtrTd9bEqT7T5Si4HfQ0BUOoS1tJMPx+229Mgmp9WUtNQVst7nPhVNKEt\n"
    "PgawGgJNJFgXvX7Zo3YKlG3WklbmH/y4DVlnOWw8tKG2XhAHM/JnKe4HDVc08UQWMiaW8I\n"
    "xkZh8T0bG18DXcHPILRVXCf8farTh60dSkm9q5o/8Ra6Eof/tCMnlSXJGdequ/2YIJW8GU\n"
    "NVoqlkdg3HQuwBeLAPvO1wtTSnSKentyaoJcnfZOUBDJAAAAgBqQYC2fv8eWHGB24GYGj3\n"
    "Q6QtVp7D1WvTOZa5iseRil/VtKIKaTvPQu+4k62xYiadZBHd8eJZkLNFbUAihOAujrQ+m6\n"
    "k3ddwGNRCTCd6/VcXf1/sOfqXbo96zl2Js574jD8XEVD9fyFuNKvuWca3f48IKX8vZMBhW\n"
    "oh0r4MSYZFAAAAgQDY9jlNUyrkf2zXlylcWJYJ2RhfJZ0kY/fZvbU9SoJnWrU7HETzgjlC\n"
    "JdRoZNiozJrj/h6P6UbAOVgCVZnRJOZNZazLtwEol17t4SZhdsKvjdhlHB9xiR1shrARFo\n"
    "sF5M32zR2y5LtbVtIwFdsAZLR6hJlXbI5G/ohgGgZo9whJZwAAAIEAzqGFNMqJlGnQtOZd\n"
    "I6hfY4Orje1GebbnIXzFAlWUyODeA8s9O7nKWPWtcsOl6+EYz+HORjCP5vTCS0jfJx9m5p\n"
    "9cZeBZ75GpDarao18Wv9+1VqJnw8fLnByAHCTQLQWp+XGXKZVTRAbvUfLNyi3fddaa1EQf\n"
    "EH9NQTqaWXksBY8AAAAUdGVzdC1yc2EyMDQ4QHBvc3Rlcm4BAgMEBQYH\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char rsa2048_pub[] =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCvHwXa6/2EhiAmep94gkeMtb3Yiya1x0"
    "8SCYPGeYFgmIgavRgmcTl2EeUwPFpDkMLn9Bg3tgY5x5j1HqeAEkSCjjvxB+kDW7IngwQX"
    "6EoncGtSGDG+sD+I/OwVMfbrQpeDluUpGtJn00A/z7o5EueiWWbyAVTjm1mA8s90n264Ov"
    "9sUeSDsnhaP30ZaMnOsO497PzL1DNYOt7ey6KfKJ90PDGl0QNV28znmhOVN9ww7ZIh1l2M"
    "UJemfUE6uONIQY15eK8KxyilhZV93HOUh7F779cKfAQntS3RuZ2BqxgQ/2oQANv+/m/4Lh"
    "vMlj2eO7eHzByPtj5IJo3WfGJzxAOJ test-rsa2048@postern";

static const char rsa2048_fp[] =
    "SHA256:YnhpgisB+3W5C0v8Xz2ZFEHx5iNil6nax+qE4GfTp1U";

static const char rsa2048_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAARcAAAAHc3NoLXJzYQAAAAMBAAEAAAEBAK8fBdrr/YSGICZ6n3iCR4\n"
    "y1vdiLJrXHTxIJg8Z5gWCYiBq9GCZxOXYR5TA8WkOQwuf0GDe2BjnHmPUep4ASRIKOO/EH\n"
    "6QNbsieDBBfoSidwa1IYMb6wP4j87BUx9utCl4OW5Ska0mfTQD/PujkS56JZZvIBVOObWY\n"
    "Dyz3Sfbrg6/2xR5IOyeFo/fRloyc6w7j3s/MvUM1g63t7Lop8on3Q8MaXRA1XbzOeaE5U3\n"
    "3DDtkiHWXYxQl6Z9QTq440hBjXl4rwrHKKWFlX3cc5SHsXvv1wp8BCe1LdG5nYGrGBD/ah\n"
    "AA2/7+b/guG8yWPZ47t4fMHI+2PkgmjdZ8YnPEA4kAAAAEdGVzdAAAAAAAAAAGc2hhNTEy\n"
    "AAABFAAAAAxyc2Etc2hhMi01MTIAAAEAm7KjIuSFwU8zhwpz+EIcJpJASLZjjnSZJk4Ibh\n"
    "VkjII4isdUkrhM1lCwFr6pS/ctkFLo8xD2j0e6DiMj9JfbcsP9g3j1GorNljZCd8MQi7KG\n"
    "9dRq+9Gv3w2WQpIt/wVXIfzs6HtRpDNHOL4Z7s+qnTJXd2fUYPhAwD5GW3W2R734eh6tTR\n"
    "VsRTl2w2sZ2K3TN6qaN9phAPuR39tGmgJlv8xZnnaPOiF0yN0X/ar0LWjoZ+dD4wxtop5/\n"
    "Qawe+0KMjxRclpVyqzL245o2fGTQDpFp+OBolp4LmtTBpi6DhFOWXWsflB3EaR/1zH5wRu\n"
    "rXwG81gmK+WuZtTXUcZqMJBg==\n"
    "-----END SSH SIGNATURE-----\n";

static const char rsa3072_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAABlwAAAAdzc2gtcn\n"
    "NhAAAAAwEAAQAAAYEAqlgyfrVvWdo+BGmCXe50sdwgwLTwk7YDym2u5xYbnh3Ks5lK5Gyw\n"
    "gppHrraFM7vFidZHTehNXac3ujHKya2q1c83eMBMr2z7s1gr3LQKsqRWty1tbdJNgeOZju\n"
    "Y7KZ1tRd1CDH1mE9d9kqOssMjUK1WPVcYROG3+tpzuUaM83417OTf2nFR8lWr7s2o/9OA7\n"
    "NToBS1J2VKEtU4USJoLYipdPHvSPutVcl7Cq3zBp+pomFoWZhKyG4PRRtPUAVG/XsS7heL\n"
    "j845/2RjqA861SZSEShDyMqmacZSLq71EMyOBKRGNPOxJ0RA00wOwDhknQGuA+dX6Ma+YW\n"
    "49v+4WxAnhq0U/FcTUvW7ycw5wa9pos7aIv6ZsSD4MoKOHK3IVUYvikNypTEl2EAVsWytT\n"
    "ICDKl32xuA/9bqggAqOM5i2uJpmxQfS7B5whLlMS31pL1xWEVEyCbFU9kwaBBBPB3AxFBm\n"
    "SfDmohiSROc1ywmBAaqUS0AMNbDiM+JERX7VPn+pAAAFkDxFfGw8RXxsAAAAB3NzaC1yc2\n"
    "EAAAGBAKpYMn61b1naPgRpgl3udLHcIMC08JO2A8ptrucWG54dyrOZSuRssIKaR662hTO7\n"
    "xYnWR03oTV2nN7oxysmtqtXPN3jATK9s+7NYK9y0CrKkVrctbW3STYHjmY7mOymdbUXdQg\n"
    "x9ZhPXfZKjrLDI1CtVj1XGETht/rac7lGjPN+Nezk39pxUfJVq+7NqP/TgOzU6AUtSdlSh\n"
    "LVOFEiaC2IqXTx70j7rVXJewqt8wafqaJhaFmYSshuD0UbT1AFRv17Eu4Xi4/OOf9kY6gP\n"
    "OtUmUhEoQ8jKpmnGUi6u9RDMjgSkRjTzsSdEQNNMDsA4ZJ0BrgPnV+jGvmFuPb/uFsQJ4a\n"
    "tFPxXE1L1u8nMOcGvaaLO2iL+mbEg+DKCjhytyFVGL4pDcqUxJdhAFbFsrUyAgypd9sbgP\n"
    "/W6oIAKjjOYtriaZsUH0uwecIS5TEt9aS9cVhFRMgmxVPZMGgQQTwdwMRQZknw5qIYkkTn\n"
    "NcsJgQGqlEtADDWw4jPiREV+1T5/qQAAAAMBAAEAAAGAGYg0sVdChGY4y3KBDtEx/oKvCh\n"
    "NUx98NPGcqQwrGQvHWMwsz9X7xCfJT8jT7TCDF3/4VG/FIv1PT/319FrOIGpn/h4LTO6wL\n"
    "IfuCP4dg3xvQv434i/Bsm55gotGRZpBpE4KxZqvZA/pVoQgVVz4SxxgA7utMI3ghKH/nHK\n"
    "dp9VwAbzgbJ51mOwMZDPBM+8gsN7MlBIQspkyuPYmBifIswMEjI9GmRWu7gCUDx4Y7LEu0\n"
    "j8WgmAlAAjG8mXHrhbxpiiOml1Z6wqp1QC/1shP5d38x3bVhUNQcgBHJfFSPAaZqf2Wscm\n"
    "mW8RNO7VyfwgNP7MzaX/R0z9U5YB0EDEWn9iBhUae9PLx7II6rrs+768WBMLnqkGFvS0cH\n"
    "dXX7Vy2YS93QbG2PFPWzES73MqfB83tsehYvmVFNJMPzJTDVbDvbnRzcqTvydXbmSR06/I\n"
    "ZbZOYcTo7hHmmUdPhJOYmw3WNvwLXg0Dz/J9B9Fc3PlJ43GodXSO4x1JpNjFqyPxFxAAAA\n"
    "wAX4VOHAYJCyTDQOJFh1FjH+b92blcSm7UODLl9UnJo3u26PF6kvsoCwgYCU83DK6hiU+a\n"
    "UHHp3HP295WfG1o6AasmUN5WQE7ipsr5mbTosvTyIdf3eh02kaIXu07cN5GvD4/RxnRHvg\n"
    "/4HuO9ZhZr1e2meMqw6sCA0U/L9lsBNhh/1J2dFjtsVJvGi01v/Iszo3ibNJZItLKjYo8P\n"
    "aTZY48IEvArtf10h5qyCyhwpGBIg9VyckrkeBb8nJawxWXhAAAAMEA4cQkEDHk/sLMVYi8\n"
    "ufkcOnatrIV+u6xt4F8b8ZzCBRqqrCJA50IOpE0F1cn+2+vvVdPMkMqcRdn/apXDptogfI\n"
    "c0roIqXXaF6kDhiEyDzyqn+FC7ZrPbMWe5IhcDBCuchqrPg3Zk5Yv9f8SgdAwU2H9crqbl\n"
    "SqDZX7uSYO1Hxxv3WTJNND8zLSKGkJ1g1EiGxzaPWEdwyH2u6pdOhlSPIL67q6Hm51JwsA\n"
    "AYG+rXPUedwDkaiVMQDxDA+6C38SyNAAAAwQDBKA5a3qgdBTI1/GINMysACcTNhMgVNWq9\n"
    "1OPqSZafqoQNhoNrI1CTQsa76+lw36oxyDY+fQh0zbIPezxeNEx+Pb7RX0ZAlBaxZ5FYOj\n"
    "GebBiUWX7lEMw20O1+kNkDNOnsOashJdcRYOGdYb+tGFvhOkqQ2jQMi4/ePtyq3z1LQJl6\n"
    "+FFEpJkvcmwFuKKHZeGK8iqQpxKGBdHZSwXlUurUD6tKyrK90/xK+eikR+8oO5DOdk8LN5\n"
    "GzFV9b5UquTo0AAAAUdGVzdC1yc2EzMDcyQHBvc3Rlcm4BAgMEBQYH\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

static const char rsa3072_pub[] =
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCqWDJ+tW9Z2j4EaYJd7nSx3CDAtPCTtg"
    "PKba7nFhueHcqzmUrkbLCCmkeutoUzu8WJ1kdN6E1dpze6McrJrarVzzd4wEyvbPuzWCvc"
    "tAqypFa3LW1t0k2B45mO5jspnW1F3UIMfWYT132So6ywyNQrVY9VxhE4bf62nO5RozzfjX"
    "s5N/acVHyVavuzaj/04Ds1OgFLUnZUoS1ThRImgtiKl08e9I+61VyXsKrfMGn6miYWhZmE"
    "rIbg9FG09QBUb9exLuF4uPzjn/ZGOoDzrVJlIRKEPIyqZpxlIurvUQzI4EpEY087EnREDT"
    "TA7AOGSdAa4D51foxr5hbj2/7hbECeGrRT8VxNS9bvJzDnBr2miztoi/pmxIPgygo4crch"
    "VRi+KQ3KlMSXYQBWxbK1MgIMqXfbG4D/1uqCACo4zmLa4mmbFB9LsHnCEuUxLfWkvXFYRU"
    "TIJsVT2TBoEEE8HcDEUGZJ8OaiGJJE5zXLCYEBqpRLQAw1sOIz4kRFftU+f6k= test-rs"
    "a3072@postern";

static const char rsa3072_fp[] =
    "SHA256:pEpfrmrEj7tSYybjrFQnlxARAyqDZirCBvkgEKun8kI";

static const char rsa3072_sshsig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAAZcAAAAHc3NoLXJzYQAAAAMBAAEAAAGBAKpYMn61b1naPgRpgl3udL\n"
    "HcIMC08JO2A8ptrucWG54dyrOZSuRssIKaR662hTO7xYnWR03oTV2nN7oxysmtqtXPN3jA\n"
    "TK9s+7NYK9y0CrKkVrctbW3STYHjmY7mOymdbUXdQgx9ZhPXfZKjrLDI1CtVj1XGETht/r\n"
    "ac7lGjPN+Nezk39pxUfJVq+7NqP/TgOzU6AUtSdlShLVOFEiaC2IqXTx70j7rVXJewqt8w\n"
    "afqaJhaFmYSshuD0UbT1AFRv17Eu4Xi4/OOf9kY6gPOtUmUhEoQ8jKpmnGUi6u9RDMjgSk\n"
    "RjTzsSdEQNNMDsA4ZJ0BrgPnV+jGvmFuPb/uFsQJ4atFPxXE1L1u8nMOcGvaaLO2iL+mbE\n"
    "g+DKCjhytyFVGL4pDcqUxJdhAFbFsrUyAgypd9sbgP/W6oIAKjjOYtriaZsUH0uwecIS5T\n"
    "Et9aS9cVhFRMgmxVPZMGgQQTwdwMRQZknw5qIYkkTnNcsJgQGqlEtADDWw4jPiREV+1T5/\n"
    "qQAAAAR0ZXN0AAAAAAAAAAZzaGE1MTIAAAGUAAAADHJzYS1zaGEyLTUxMgAAAYCfk2vCzd\n"
    "r5yQaMtZIEaIaW7aPZsRnK4tl9qkzbj/H56sg1IHge/8AAnrsLM67r3JjWjcQbnka0NXbG\n"
    "AgKOp7P1E5zbVrhPFmIvncZmKAiJzyUv9diFPbgscv/zSMfil7CQTlI/u+mmOmpgveLnHl\n"
    "zao+DvxkRlxdUs5q1jk8vlFN9wkCGzsjs6mRiwg17S1eqsLXfCV3fGKMxUdCnPND5q3vS4\n"
    "L6Kb99+f0K6oOFEAbpZn9Qp0KqQrpuhGBqlToJSYliWHxD7Hz3DvUW0OEBC17+cNgF8aOi\n"
    "OjX34BgHtcE3kLhz2F8iM7hG+zK6G9ju+mVvanKwRt/D9rQZc7eyVhn42mMhcyk0KBKgEu\n"
    "8YIwU9/S0D86ui/ihyX/bt89s49d910mk8fQEMiJi8q0tXwnA9jB9jRmii7x6Tv5hMjBVb\n"
    "e40tc+LAzLNu+GoyxTNrRLyWfXZfnci5Ch/dXuMsKzrHQJgZ7LeCjF3VwYbyoZ9KhhpKhP\n"
    "xsnDf4+H+D46wmw=\n"
    "-----END SSH SIGNATURE-----\n";

/* ssh-keygen -t ed25519 -N 'secret pass' */
static const char enc_ed25519_priv[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDgWMiedr\n"
    "sVgtYcVP/u7t+pAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIErVi8lrK8tOac0p\n"
    "nns6p2QYc5jHlk2VxCtHwtIFvVJlAAAAkEG4mB+0FXuoJgyjsWqu+Llmu7JxI4Yg0YWb73\n"
    "nXlJVLU550OhKmjFfoxAi0VZTTlNO4Ku6wQJsnU+rbV9u4/V2DQKCjast1CIZleLpnLbsh\n"
    "M98+AH19GLvHzOMdHsUWwwo8umnZlDsr+0Xs3ni496v05NlPPZeOQZ7IbiDqjdkR/1mYBl\n"
    "ihTbpEQNYYuZdtfQ==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

/* The message signed by every SSHSIG above. */
static const char sshsig_msg[] = "postern sshsig test message\n";

struct fixture {
	const char *name;
	const char *type_name;
	const char *type_short;
	unsigned bits;
	const char *priv;
	const char *pub;
	const char *fp;
	const char *sshsig;
	const char *sig_alg; /* what ssh-keygen -Y sign used */
};

static const struct fixture fixtures[] = {
    {"ed25519", "ssh-ed25519", "ED25519", 256, ed25519_priv, ed25519_pub,
        ed25519_fp, ed25519_sshsig, "ssh-ed25519"},
    {"ecdsa256", "ecdsa-sha2-nistp256", "ECDSA", 256, ecdsa256_priv,
        ecdsa256_pub, ecdsa256_fp, ecdsa256_sshsig, "ecdsa-sha2-nistp256"},
    {"ecdsa384", "ecdsa-sha2-nistp384", "ECDSA", 384, ecdsa384_priv,
        ecdsa384_pub, ecdsa384_fp, ecdsa384_sshsig, "ecdsa-sha2-nistp384"},
    {"ecdsa521", "ecdsa-sha2-nistp521", "ECDSA", 521, ecdsa521_priv,
        ecdsa521_pub, ecdsa521_fp, ecdsa521_sshsig, "ecdsa-sha2-nistp521"},
    {"rsa2048", "ssh-rsa", "RSA", 2048, rsa2048_priv, rsa2048_pub, rsa2048_fp,
        rsa2048_sshsig, "rsa-sha2-512"},
    {"rsa3072", "ssh-rsa", "RSA", 3072, rsa3072_priv, rsa3072_pub, rsa3072_fp,
        rsa3072_sshsig, "rsa-sha2-512"},
};
#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static char tname[256];

/* Check name with a fixture prefix. */
static const char *
tn(const char *fx, const char *what)
{
	snprintf(tname, sizeof(tname), "%s: %s", fx, what);
	return tname;
}

/* Decode the base64 body between an armour's first and last lines. */
static size_t
unarmour(const char *text, uint8_t *out, size_t max)
{
	const char *p = strchr(text, '\n'), *end = strstr(text, "\n-----END");
	char *b64;
	size_t n = 0, pad = 0;
	int len;

	if (p == NULL || end == NULL || (b64 = malloc(strlen(text))) == NULL)
		return 0;
	for (; p < end; p++)
		if (!isspace((unsigned char)*p))
			b64[n++] = *p;
	if (n / 4 * 3 > max) {
		free(b64);
		return 0;
	}
	while (pad < 2 && n > pad && b64[n - 1 - pad] == '=')
		pad++;
	len = EVP_DecodeBlock(out, (unsigned char *)b64, (int)n);
	free(b64);
	return len < 0 ? 0 : (size_t)len - pad;
}

/* Wrap binary key data in OpenSSH private key armour. */
static char *
armour(const struct buf *b)
{
	size_t len = buf_len(b), enclen = (len + 2) / 3 * 4, i, o = 0;
	char *enc = malloc(enclen + 1), *out = malloc(enclen * 2 + 128);

	EVP_EncodeBlock((unsigned char *)enc, buf_ptr(b), (int)len);
	o += (size_t)sprintf(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (i = 0; i < enclen; i += 70) {
		size_t n = enclen - i < 70 ? enclen - i : 70;

		memcpy(out + o, enc + i, n);
		o += n;
		out[o++] = '\n';
	}
	sprintf(out + o, "-----END OPENSSH PRIVATE KEY-----\n");
	free(enc);
	return out;
}

enum {
	PK_GOOD,
	PK_BAD_CHECK,
	PK_BAD_PAD,
	PK_WRONG_PUB,
	PK_TRAILING,
	PK_LONG_PAD
};

/* Build an openssh-key-v1 file for an Ed25519 seed/public pair. */
static char *
make_ed25519_file(const uint8_t seed[32], const uint8_t pub[32], int how)
{
	struct buf *pubblob = buf_new(0), *priv = buf_new(0),
	           *file = buf_new(0);
	uint8_t sk[64], other[32];
	uint8_t i;
	char *text;

	memcpy(sk, seed, 32);
	memcpy(sk + 32, pub, 32);
	memcpy(other, pub, 32);
	other[0] ^= 1;
	buf_put_cstring(pubblob, "ssh-ed25519");
	buf_put_string(pubblob, how == PK_WRONG_PUB ? other : pub, 32);
	buf_put_u32(priv, 0x12345678);
	buf_put_u32(priv, how == PK_BAD_CHECK ? 0x12345679 : 0x12345678);
	buf_put_cstring(priv, "ssh-ed25519");
	buf_put_string(priv, pub, 32);
	buf_put_string(priv, sk, 64);
	buf_put_cstring(priv, "rfc8032");
	for (i = 1; buf_len(priv) % (how == PK_LONG_PAD ? 16 : 8) != 0 ||
	     (how == PK_LONG_PAD && i < 9);
	     i++)
		buf_put_u8(priv, how == PK_BAD_PAD ? 0 : i);
	buf_put(file, "openssh-key-v1", 15);
	buf_put_cstring(file, "none");
	buf_put_cstring(file, "none");
	buf_put_cstring(file, "");
	buf_put_u32(file, 1);
	buf_put_stringb(file, pubblob);
	buf_put_stringb(file, priv);
	if (how == PK_TRAILING)
		buf_put_u8(file, 0);
	text = armour(file);
	buf_free(pubblob);
	buf_free(priv);
	buf_free(file);
	return text;
}

/* Pull the inner signature bytes out of a signature blob. */
static int
sig_inner(const struct buf *sig, char **algp, uint8_t **innerp, size_t *lenp)
{
	struct buf *b = buf_from(buf_ptr(sig), buf_len(sig));
	int r;

	if ((r = buf_get_cstring(b, algp, NULL)) == 0)
		r = buf_get_string(b, innerp, lenp);
	buf_free(b);
	return r;
}

/* A signature blob from an algorithm name and inner bytes. */
static struct buf *
sig_build(const char *alg, const uint8_t *inner, size_t len)
{
	struct buf *b = buf_new(0);

	buf_put_cstring(b, alg);
	buf_put_string(b, inner, len);
	return b;
}

static void
test_public(const struct fixture *fx, struct sshkey **keyp)
{
	struct sshkey *k = NULL, *k2 = NULL;
	struct buf *blob = buf_new(0);
	char fp[SSHKEY_FP_LEN], *text = NULL;
	const char *end = NULL;
	size_t base_len;

	*keyp = NULL;
	T_CHECK(tn(fx->name, "parse public line"),
	    sshkey_parse_public_text(fx->pub, &k, &end) == 0 && k != NULL);
	if (k == NULL)
		return;
	T_CHECK(tn(fx->name, "endp at the comment"),
	    end != NULL && *end == ' ' && strcmp(end + 1, "test-") > 0);
	T_CHECK(tn(fx->name, "type name"),
	    strcmp(sshkey_type_name(k), fx->type_name) == 0);
	T_CHECK(tn(fx->name, "short type name"),
	    strcmp(sshkey_type_short(k), fx->type_short) == 0);
	T_CHECK(tn(fx->name, "bits"), sshkey_bits(k) == fx->bits);
	T_CHECK(tn(fx->name, "public only"), !sshkey_is_private(k));
	T_CHECK(tn(fx->name, "fingerprint as ssh-keygen -lf"),
	    sshkey_fingerprint(k, fp, sizeof(fp)) == 0 &&
	        strcmp(fp, fx->fp) == 0);
	T_CHECK(tn(fx->name, "fingerprint buffer too small"),
	    sshkey_fingerprint(k, fp, 20) == ERR_TOO_BIG);
	T_CHECK(tn(fx->name, "to_blob"), sshkey_to_blob(k, blob) == 0);
	T_CHECK(tn(fx->name, "from_blob round trip"),
	    sshkey_from_blob(buf_ptr(blob), buf_len(blob), &k2) == 0 &&
	        sshkey_equal_public(k, k2));
	base_len = (size_t)(end - fx->pub);
	T_CHECK(tn(fx->name, "format_public_text equals the .pub line"),
	    sshkey_format_public_text(k, &text) == 0 &&
	        strlen(text) == base_len &&
	        strncmp(text, fx->pub, base_len) == 0);
	free(text);
	sshkey_free(k2);
	buf_free(blob);
	*keyp = k;
}

static void
test_private(const struct fixture *fx, const struct sshkey *pub)
{
	struct sshkey *k = NULL;
	struct buf *sig = buf_new(0), *bad = NULL;
	const uint8_t data[] = "exchange hash stand-in";
	uint8_t tampered[sizeof(data)], *inner = NULL;
	char *alg = NULL;
	size_t ilen = 0;

	T_CHECK(tn(fx->name, "parse private key"),
	    sshkey_parse_private(
	        (const uint8_t *)fx->priv, strlen(fx->priv), &k) == 0 &&
	        k != NULL);
	if (k == NULL) {
		buf_free(sig);
		return;
	}
	T_CHECK(tn(fx->name, "private key is private"), sshkey_is_private(k));
	T_CHECK(tn(fx->name, "private key matches .pub"),
	    sshkey_equal_public(k, pub));
	T_CHECK(tn(fx->name, "sign"),
	    sshkey_sign(k, sig, data, sizeof(data), NULL) == 0);
	T_CHECK(tn(fx->name, "verify own signature"),
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        NULL, 0) == 0);
	memcpy(tampered, data, sizeof(data));
	tampered[3] ^= 0x20;
	T_CHECK(tn(fx->name, "tampered data fails"),
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), tampered,
	        sizeof(tampered), NULL, 0) == ERR_SIGNATURE);
	T_CHECK(tn(fx->name, "signature algorithm name"),
	    sig_inner(sig, &alg, &inner, &ilen) == 0 &&
	        strcmp(alg,
	            fx->type_name[0] == 's' &&
	                    strcmp(fx->type_name, "ssh-rsa") == 0
	                ? "rsa-sha2-512"
	                : fx->type_name) == 0);
	if (inner != NULL) {
		inner[ilen / 2] ^= 0x01;
		bad = sig_build(alg, inner, ilen);
		T_CHECK(tn(fx->name, "tampered signature fails"),
		    sshkey_verify(pub, buf_ptr(bad), buf_len(bad), data,
		        sizeof(data), NULL, 0) != 0);
		buf_free(bad);
	}
	T_CHECK(tn(fx->name, "required alg must equal the signature's"),
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        "ssh-dss", 0) == ERR_SIGNATURE);
	bad = buf_new(0);
	buf_put(bad, buf_ptr(sig), buf_len(sig));
	buf_put_u8(bad, 0);
	T_CHECK(tn(fx->name, "trailing byte after signature fails"),
	    sshkey_verify(pub, buf_ptr(bad), buf_len(bad), data, sizeof(data),
	        NULL, 0) != 0);
	buf_free(bad);
	T_CHECK(tn(fx->name, "public key cannot sign"),
	    sshkey_sign(pub, sig, data, sizeof(data), NULL) != 0);
	free(alg);
	free(inner);
	buf_free(sig);
	sshkey_free(k);
}

/* Verify ssh-keygen's SSHSIG over the PROTOCOL.sshsig signed data. */
static void
test_sshsig(const struct fixture *fx, const struct sshkey *pub)
{
	uint8_t raw[4096], h[64], magic[6];
	struct buf *b = NULL, *signed_data = buf_new(0), *keyblob = buf_new(0);
	const uint8_t *pk = NULL, *sig = NULL, *p;
	size_t rawlen, pklen = 0, siglen = 0, len;
	uint32_t version = 0;
	unsigned hlen = 0;
	int ok;

	rawlen = unarmour(fx->sshsig, raw, sizeof(raw));
	b = buf_from(raw, rawlen);
	ok = buf_get(b, magic, 6) == 0 && memcmp(magic, "SSHSIG", 6) == 0 &&
	    buf_get_u32(b, &version) == 0 && version == 1 &&
	    buf_get_string_direct(b, &pk, &pklen) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 4 &&
	    memcmp(p, "test", 4) == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 0 &&
	    buf_get_string_direct(b, &p, &len) == 0 && len == 6 &&
	    memcmp(p, "sha512", 6) == 0 &&
	    buf_get_string_direct(b, &sig, &siglen) == 0 && buf_end(b) == 0;
	T_CHECK(tn(fx->name, "SSHSIG armour parses"), ok);
	if (!ok)
		goto out;
	sshkey_to_blob(pub, keyblob);
	T_CHECK(tn(fx->name, "SSHSIG public key equals fixture"),
	    pklen == buf_len(keyblob) &&
	        memcmp(pk, buf_ptr(keyblob), pklen) == 0);
	EVP_Digest(
	    sshsig_msg, strlen(sshsig_msg), h, &hlen, EVP_sha512(), NULL);
	buf_put(signed_data, "SSHSIG", 6);
	buf_put_cstring(signed_data, "test");
	buf_put_cstring(signed_data, "");
	buf_put_cstring(signed_data, "sha512");
	buf_put_string(signed_data, h, hlen);
	T_CHECK(tn(fx->name, "ssh-keygen SSHSIG verifies"),
	    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
	        buf_len(signed_data), fx->sig_alg, 0) == 0);
	T_CHECK(tn(fx->name, "ssh-keygen SSHSIG verifies without alg"),
	    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
	        buf_len(signed_data), NULL, 0) == 0);
	buf_mutable_ptr(signed_data)[buf_len(signed_data) - 1] ^= 0x80;
	T_CHECK(tn(fx->name, "SSHSIG over other data fails"),
	    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
	        buf_len(signed_data), fx->sig_alg, 0) == ERR_SIGNATURE);
	buf_mutable_ptr(signed_data)[buf_len(signed_data) - 1] ^= 0x80;
	if (sshkey_type(pub) == KEY_RSA) {
		T_CHECK(
		    tn(fx->name, "rsa-sha2-512 sig refused for rsa-sha2-256"),
		    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
		        buf_len(signed_data), "rsa-sha2-256",
		        0) == ERR_SIGNATURE);
		T_CHECK(tn(fx->name, "rsa-sha2-512 sig refused for ssh-rsa"),
		    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
		        buf_len(signed_data), "ssh-rsa", 0) == ERR_SIGNATURE);
		T_CHECK(tn(fx->name, "min_rsa_bits 3072"),
		    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
		        buf_len(signed_data), fx->sig_alg,
		        3072) == (sshkey_bits(pub) >= 3072 ? 0 : ERR_KEY_TYPE));
		T_CHECK(tn(fx->name, "min_rsa_bits 4096 refuses"),
		    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
		        buf_len(signed_data), fx->sig_alg,
		        4096) == ERR_KEY_TYPE);
	} else {
		T_CHECK(tn(fx->name, "min_rsa_bits ignored for non-RSA"),
		    sshkey_verify(pub, sig, siglen, buf_ptr(signed_data),
		        buf_len(signed_data), fx->sig_alg, 4096) == 0);
	}
out:
	buf_free(b);
	buf_free(signed_data);
	buf_free(keyblob);
}

static struct sshkey *
load_fixture_private(const char *text)
{
	struct sshkey *k = NULL;

	if (sshkey_parse_private((const uint8_t *)text, strlen(text), &k) != 0)
		return NULL;
	return k;
}

static void
test_rsa_algs(void)
{
	struct sshkey *k = load_fixture_private(rsa2048_priv), *pub = NULL;
	struct buf *sig = buf_new(0), *shortsig = NULL, *longsig = NULL;
	uint8_t data[32], *inner = NULL, *wide = NULL;
	char *alg = NULL;
	size_t ilen = 0;
	uint32_t i;
	int found = 0;

	sshkey_parse_public_text(rsa2048_pub, &pub, NULL);
	T_CHECK("rsa: loaded", k != NULL && pub != NULL);
	if (k == NULL || pub == NULL)
		goto out;
	T_CHECK("rsa: sig_alg_ok rsa-sha2-256",
	    sshkey_sig_alg_ok(pub, "rsa-sha2-256", 0));
	T_CHECK("rsa: sig_alg_ok rsa-sha2-512",
	    sshkey_sig_alg_ok(pub, "rsa-sha2-512", 0));
	T_CHECK("rsa: sig_alg_ok ssh-rsa without sha1",
	    !sshkey_sig_alg_ok(pub, "ssh-rsa", 0));
	T_CHECK("rsa: sig_alg_ok ssh-rsa with sha1",
	    sshkey_sig_alg_ok(pub, "ssh-rsa", 1));
	T_CHECK("rsa: sig_alg_ok ssh-ed25519",
	    !sshkey_sig_alg_ok(pub, "ssh-ed25519", 1));
	memset(data, 0x5a, sizeof(data));
	T_CHECK("rsa: sign rsa-sha2-256",
	    sshkey_sign(k, sig, data, sizeof(data), "rsa-sha2-256") == 0);
	T_CHECK("rsa: verify rsa-sha2-256 as rsa-sha2-256",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        "rsa-sha2-256", 2048) == 0);
	T_CHECK("rsa: rsa-sha2-256 refused when rsa-sha2-512 required",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        "rsa-sha2-512", 0) == ERR_SIGNATURE);
	buf_reset(sig);
	T_CHECK("rsa: sign ssh-rsa (SHA-1)",
	    sshkey_sign(k, sig, data, sizeof(data), "ssh-rsa") == 0);
	T_CHECK("rsa: ssh-rsa verifies when named",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        "ssh-rsa", 0) == 0);
	T_CHECK("rsa: ssh-rsa refused when alg not given",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        NULL, 0) == ERR_SIGNATURE);
	T_CHECK("rsa: ssh-rsa refused when rsa-sha2-256 required",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), data, sizeof(data),
	        "rsa-sha2-256", 0) == ERR_SIGNATURE);
	T_CHECK("rsa: bogus alg cannot sign",
	    sshkey_sign(k, sig, data, sizeof(data), "rsa-sha2-384") != 0);

	/* Find a signature starting with 0x00 and send it one byte short. */
	for (i = 0; i < 5000 && !found; i++) {
		memcpy(data, &i, sizeof(i));
		buf_reset(sig);
		free(alg);
		free(inner);
		alg = NULL;
		inner = NULL;
		if (sshkey_sign(k, sig, data, sizeof(data), "rsa-sha2-256") !=
		        0 ||
		    sig_inner(sig, &alg, &inner, &ilen) != 0)
			break;
		if (ilen == 256 && inner[0] == 0)
			found = 1;
	}
	T_CHECK("rsa: found a signature with a leading zero", found);
	if (found) {
		struct buf *ib = buf_from(inner, ilen);

		buf_consume(ib, 1);
		shortsig = sig_build("rsa-sha2-256", buf_ptr(ib), buf_len(ib));
		buf_free(ib);
		T_CHECK("rsa: short signature is left-padded and verifies",
		    sshkey_verify(pub, buf_ptr(shortsig), buf_len(shortsig),
		        data, sizeof(data), "rsa-sha2-256", 0) == 0);
		wide = calloc(1, ilen + 1);
		memcpy(wide + 1, inner, ilen);
		longsig = sig_build("rsa-sha2-256", wide, ilen + 1);
		T_CHECK("rsa: signature longer than the modulus fails",
		    sshkey_verify(pub, buf_ptr(longsig), buf_len(longsig), data,
		        sizeof(data), "rsa-sha2-256", 0) == ERR_SIGNATURE);
	}
out:
	free(alg);
	free(inner);
	free(wide);
	buf_free(sig);
	buf_free(shortsig);
	buf_free(longsig);
	sshkey_free(k);
	sshkey_free(pub);
}

/* RSA public blob from parts: e, n as big-endian magnitudes. */
static struct buf *
rsa_blob(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	struct buf *b = buf_new(0);

	buf_put_cstring(b, "ssh-rsa");
	buf_put_mpint_bytes(b, e, elen);
	buf_put_mpint_bytes(b, n, nlen);
	return b;
}

static void
test_bad_rsa(void)
{
	struct sshkey *pub = NULL, *k = NULL;
	struct buf *blob = buf_new(0), *b, *bad;
	const uint8_t *e, *n;
	size_t elen, nlen;
	uint8_t e_even[] = {0x01, 0x00, 0x00}, e_one[] = {0x01};
	uint8_t e3[] = {0x03}, *big;

	sshkey_parse_public_text(rsa2048_pub, &pub, NULL);
	sshkey_to_blob(pub, blob);
	b = buf_from(buf_ptr(blob), buf_len(blob));
	buf_skip_string(b);
	buf_get_mpint_direct(b, &e, &elen);
	buf_get_mpint_direct(b, &n, &nlen);

	bad = rsa_blob(e, elen, n, nlen);
	T_CHECK("rsa blob: rebuilt blob parses",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == 0);
	sshkey_free(k);
	k = NULL;
	buf_free(bad);
	bad = rsa_blob(e3, 1, n, nlen);
	T_CHECK("rsa blob: e = 3 accepted",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == 0);
	sshkey_free(k);
	k = NULL;
	buf_free(bad);
	bad = rsa_blob(e_even, sizeof(e_even), n, nlen);
	T_CHECK("rsa blob: even e refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == ERR_BAD_KEY &&
	        k == NULL);
	buf_free(bad);
	bad = rsa_blob(e_one, sizeof(e_one), n, nlen);
	T_CHECK("rsa blob: e = 1 refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == ERR_BAD_KEY);
	buf_free(bad);
	bad = rsa_blob(e, elen, n, 64);
	T_CHECK("rsa blob: 512-bit modulus refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == ERR_BAD_KEY);
	buf_free(bad);
	/* 16385 bits: one byte more than a 16384-bit modulus. */
	big = malloc(2049);
	memset(big, 0xab, 2049);
	big[0] = 0x01;
	bad = rsa_blob(e, elen, big, 2049);
	T_CHECK("rsa blob: modulus over 16384 bits refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0 && k == NULL);
	buf_free(bad);
	free(big);
	bad = buf_new(0);
	buf_put(bad, buf_ptr(blob), buf_len(blob));
	buf_put_u8(bad, 0);
	T_CHECK("rsa blob: trailing byte refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == ERR_TRAILING);
	buf_free(bad);
	T_CHECK("rsa blob: truncated refused",
	    sshkey_from_blob(buf_ptr(blob), buf_len(blob) - 1, &k) != 0);
	buf_free(b);
	buf_free(blob);
	sshkey_free(pub);
}

static struct buf *
ec_blob(const char *type, const char *curve, const uint8_t *q, size_t qlen)
{
	struct buf *b = buf_new(0);

	buf_put_cstring(b, type);
	buf_put_cstring(b, curve);
	buf_put_string(b, q, qlen);
	return b;
}

static void
test_bad_ecdsa(void)
{
	struct sshkey *pub = NULL, *k = NULL;
	struct buf *blob = buf_new(0), *b, *bad, *sig = NULL;
	const uint8_t *qp;
	uint8_t q[65], zero = 0, rs[40], one = 1;
	size_t qlen;

	sshkey_parse_public_text(ecdsa256_pub, &pub, NULL);
	sshkey_to_blob(pub, blob);
	b = buf_from(buf_ptr(blob), buf_len(blob));
	buf_skip_string(b);
	buf_skip_string(b);
	buf_get_string_direct(b, &qp, &qlen);
	T_CHECK("ecdsa blob: uncompressed point", qlen == 65 && qp[0] == 4);
	memcpy(q, qp, sizeof(q));

	bad = ec_blob("ecdsa-sha2-nistp256", "nistp256", q, sizeof(q));
	T_CHECK("ecdsa blob: rebuilt blob parses",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) == 0);
	sshkey_free(k);
	k = NULL;
	buf_free(bad);
	q[64] ^= 0x01;
	bad = ec_blob("ecdsa-sha2-nistp256", "nistp256", q, sizeof(q));
	T_CHECK("ecdsa blob: point not on the curve refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0 && k == NULL);
	buf_free(bad);
	q[64] ^= 0x01;
	q[0] = 0x02;
	bad = ec_blob("ecdsa-sha2-nistp256", "nistp256", q, sizeof(q));
	T_CHECK("ecdsa blob: bad point form refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0);
	buf_free(bad);
	q[0] = 0x04;
	bad = ec_blob("ecdsa-sha2-nistp256", "nistp256", &zero, 1);
	T_CHECK("ecdsa blob: point at infinity refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0);
	buf_free(bad);
	bad = ec_blob("ecdsa-sha2-nistp256", "nistp384", q, sizeof(q));
	T_CHECK("ecdsa blob: curve name mismatch refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0);
	buf_free(bad);
	bad = ec_blob("ecdsa-sha2-nistp384", "nistp384", q, sizeof(q));
	T_CHECK("ecdsa blob: point of the wrong size refused",
	    sshkey_from_blob(buf_ptr(bad), buf_len(bad), &k) != 0);
	buf_free(bad);

	/* Signatures with r = 0, or r wider than the curve, are refused. */
	b = (buf_free(b), buf_new(0));
	buf_put_mpint_bytes(b, &zero, 1);
	buf_put_mpint_bytes(b, &one, 1);
	sig = sig_build("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b));
	T_CHECK("ecdsa sig: r = 0 refused",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), (const uint8_t *)"x",
	        1, NULL, 0) == ERR_SIGNATURE);
	buf_free(sig);
	buf_reset(b);
	memset(rs, 0x11, sizeof(rs));
	buf_put_mpint_bytes(b, rs, sizeof(rs));
	buf_put_mpint_bytes(b, &one, 1);
	sig = sig_build("ecdsa-sha2-nistp256", buf_ptr(b), buf_len(b));
	T_CHECK("ecdsa sig: oversized r refused",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), (const uint8_t *)"x",
	        1, NULL, 0) == ERR_SIGNATURE);
	buf_free(sig);
	buf_free(b);
	buf_free(blob);
	sshkey_free(pub);
}

static void
test_text(void)
{
	struct sshkey *k = NULL;
	char *s, s2[sizeof(ecdsa256_pub)];
	const char *ec, *b64 = strchr(ed25519_pub, ' ') + 1;
	size_t b64len = strcspn(b64, " ");

	s = malloc(strlen(ed25519_pub) + 16);
	sprintf(s, "ssh-rsa %.*s", (int)b64len, b64);
	T_CHECK("text: type must match the blob",
	    sshkey_parse_public_text(s, &k, NULL) == ERR_KEY_TYPE && k == NULL);
	sprintf(s, "rsa-sha2-512 %.*s", (int)b64len, b64);
	T_CHECK("text: an RSA signature name needs an RSA key",
	    sshkey_parse_public_text(s, &k, NULL) == ERR_KEY_TYPE && k == NULL);
	{
		/* As sshd: "rsa-sha2-256 BLOB" is the RSA key BLOB. */
		const char *rb = strchr(rsa2048_pub, ' ') + 1;
		char *t = malloc(strlen(rsa2048_pub) + 16);
		int ok;

		sprintf(t, "rsa-sha2-256 %.*s", (int)strcspn(rb, " "), rb);
		ok = sshkey_parse_public_text(t, &k, NULL) == 0 && k != NULL &&
		    sshkey_type(k) == KEY_RSA;
		sshkey_free(k);
		k = NULL;
		sprintf(t, "rsa-sha2-512 %.*s", (int)strcspn(rb, " "), rb);
		ok = ok && sshkey_parse_public_text(t, &k, NULL) == 0 &&
		    k != NULL && sshkey_type(k) == KEY_RSA;
		sshkey_free(k);
		k = NULL;
		sprintf(t, "rsa-sha2-384 %.*s", (int)strcspn(rb, " "), rb);
		ok =
		    ok && sshkey_parse_public_text(t, &k, NULL) == ERR_KEY_TYPE;
		T_CHECK("text: rsa-sha2-256/512 name an RSA key", ok);
		free(t);
	}
	sprintf(s, "ssh-dss %.*s", (int)b64len, b64);
	T_CHECK("text: unknown type",
	    sshkey_parse_public_text(s, &k, NULL) == ERR_KEY_TYPE);
	sprintf(s, "ssh-ed25519 %.*s", (int)b64len - 1, b64);
	T_CHECK("text: truncated base64",
	    sshkey_parse_public_text(s, &k, NULL) != 0);
	sprintf(s, "  ssh-ed25519\t%.*s\n", (int)b64len, b64);
	T_CHECK("text: leading blanks, tab and newline",
	    sshkey_parse_public_text(s, &k, NULL) == 0 && k != NULL);
	sshkey_free(k);
	k = NULL;
	/* The ecdsa256 fixture's base64 ends "ALM=": M has zero low bits. */
	ec = strstr(ecdsa256_pub, "ALM= ");
	sprintf(s2, "%.*sALN=", (int)(ec - ecdsa256_pub), ecdsa256_pub);
	T_CHECK("text: non-zero bits before padding refused",
	    sshkey_parse_public_text(s2, &k, NULL) == ERR_FORMAT);
	sprintf(s2, "%.*sALM", (int)(ec - ecdsa256_pub), ecdsa256_pub);
	T_CHECK("text: unpadded base64 refused",
	    sshkey_parse_public_text(s2, &k, NULL) == ERR_FORMAT);
	sprintf(s2, "%.*sALM=", (int)(ec - ecdsa256_pub), ecdsa256_pub);
	T_CHECK("text: padded base64 accepted",
	    sshkey_parse_public_text(s2, &k, NULL) == 0);
	sshkey_free(k);
	k = NULL;
	sprintf(s, "ssh-ed25519 %.*s", (int)b64len, b64);
	s[20] = '=';
	T_CHECK("text: '=' inside base64 refused",
	    sshkey_parse_public_text(s, &k, NULL) == ERR_FORMAT);
	T_CHECK("text: type only",
	    sshkey_parse_public_text("ssh-ed25519", &k, NULL) != 0);
	T_CHECK("text: empty", sshkey_parse_public_text("", &k, NULL) != 0);
	free(s);
}

struct rfc8032_vector {
	const char *seed, *pub, *msg, *sig;
};

/* RFC 8032 section 7.1, TEST 1, 2 and 3. */
static const struct rfc8032_vector rfc8032[] = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
        "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
        "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

static void
test_rfc8032(void)
{
	uint8_t seed[32], pub[32], msg[8], want[64], *inner = NULL;
	struct sshkey *k = NULL, *pk = NULL;
	struct buf *sig = buf_new(0), *blob = buf_new(0);
	size_t i, mlen, ilen = 0;
	char name[64], *text, *alg = NULL;

	for (i = 0; i < sizeof(rfc8032) / sizeof(rfc8032[0]); i++) {
		t_hex(rfc8032[i].seed, seed, sizeof(seed));
		t_hex(rfc8032[i].pub, pub, sizeof(pub));
		mlen = t_hex(rfc8032[i].msg, msg, sizeof(msg));
		t_hex(rfc8032[i].sig, want, sizeof(want));
		text = make_ed25519_file(seed, pub, PK_GOOD);
		snprintf(name, sizeof(name), "rfc8032 test %zu: load", i + 1);
		T_CHECK(name,
		    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
		        0);
		free(text);
		if (k == NULL)
			continue;
		buf_reset(sig);
		snprintf(
		    name, sizeof(name), "rfc8032 test %zu: signature", i + 1);
		T_CHECK(name,
		    sshkey_sign(k, sig, msg, mlen, "ssh-ed25519") == 0 &&
		        sig_inner(sig, &alg, &inner, &ilen) == 0 &&
		        strcmp(alg, "ssh-ed25519") == 0 && ilen == 64 &&
		        memcmp(inner, want, 64) == 0);
		buf_reset(blob);
		buf_put_cstring(blob, "ssh-ed25519");
		buf_put_string(blob, pub, 32);
		snprintf(name, sizeof(name), "rfc8032 test %zu: verify", i + 1);
		T_CHECK(name,
		    sshkey_from_blob(buf_ptr(blob), buf_len(blob), &pk) == 0 &&
		        sshkey_verify(pk, buf_ptr(sig), buf_len(sig), msg, mlen,
		            "ssh-ed25519", 0) == 0);
		free(alg);
		free(inner);
		alg = NULL;
		inner = NULL;
		sshkey_free(k);
		sshkey_free(pk);
		k = pk = NULL;
	}
	buf_free(sig);
	buf_free(blob);
}

static void
test_private_format(void)
{
	uint8_t seed[32], pub[32];
	struct sshkey *k = NULL;
	char *text, *p, path[] = "/tmp/postern-sshkey-XXXXXX";
	size_t len;
	int fd;

	t_hex(rfc8032[0].seed, seed, sizeof(seed));
	t_hex(rfc8032[0].pub, pub, sizeof(pub));
	text = make_ed25519_file(seed, pub, PK_BAD_CHECK);
	T_CHECK("private: check ints differ",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
	        ERR_BAD_KEY);
	free(text);
	text = make_ed25519_file(seed, pub, PK_BAD_PAD);
	T_CHECK("private: bad padding",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
	        ERR_BAD_KEY);
	free(text);
	/* sshd reads padding of any length (a writer with a 16-byte block). */
	text = make_ed25519_file(seed, pub, PK_LONG_PAD);
	T_CHECK("private: padding of 9 bytes or more accepted",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) == 0 &&
	        k != NULL);
	sshkey_free(k);
	k = NULL;
	free(text);
	text = make_ed25519_file(seed, pub, PK_WRONG_PUB);
	T_CHECK("private: public blob does not match",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) != 0);
	free(text);
	text = make_ed25519_file(seed, pub, PK_TRAILING);
	T_CHECK("private: trailing byte",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
	        ERR_TRAILING);
	free(text);
	pub[5] ^= 1;
	text = make_ed25519_file(seed, pub, PK_GOOD);
	T_CHECK("private: seed does not derive the public key",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
	        ERR_BAD_KEY);
	free(text);
	T_CHECK("private: encrypted key refused",
	    sshkey_parse_private((const uint8_t *)enc_ed25519_priv,
	        strlen(enc_ed25519_priv), &k) == ERR_ENCRYPTED &&
	        k == NULL);
	T_CHECK("private: public key text is not a private key",
	    sshkey_parse_private((const uint8_t *)ed25519_pub,
	        strlen(ed25519_pub), &k) == ERR_FORMAT);
	len = strlen(ed25519_priv);
	text = strdup(ed25519_priv);
	text[len - 5] = '\0'; /* cut into the end marker */
	T_CHECK("private: missing end marker",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) ==
	        ERR_FORMAT);
	free(text);
	if ((text = malloc(len * 2 + 16)) == NULL)
		return;
	sprintf(text, "%sjunk\n", ed25519_priv);
	/* As sshd: what follows the end marker is not read. */
	T_CHECK("private: junk after end marker ignored",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) == 0 &&
	        k != NULL);
	sshkey_free(k);
	k = NULL;
	/* CRLF line ends, as a file edited on Windows might have. */
	p = text;
	for (size_t i = 0; i < len; i++) {
		if (ed25519_priv[i] == '\n')
			*p++ = '\r';
		*p++ = ed25519_priv[i];
	}
	*p = '\0';
	T_CHECK("private: CRLF line ends",
	    sshkey_parse_private((uint8_t *)text, strlen(text), &k) == 0);
	sshkey_free(k);
	k = NULL;
	free(text);

	fd = mkstemp(path);
	T_CHECK("private: temp file",
	    fd != -1 && write(fd, ed25519_priv, len) == (ssize_t)len);
	close(fd);
	T_CHECK("private: sshkey_load_private",
	    sshkey_load_private(path, &k) == 0 && k != NULL &&
	        sshkey_is_private(k));
	sshkey_free(k);
	k = NULL;
	unlink(path);
	T_CHECK("private: load missing file",
	    sshkey_load_private(path, &k) == ERR_SYSTEM && errno == ENOENT);
	T_CHECK("private: load a directory",
	    sshkey_load_private("/", &k) != 0 && k == NULL);
}

static void
test_ed25519_sig(void)
{
	struct sshkey *pub = NULL;
	struct buf *sig;
	uint8_t sixty_three[63];

	sshkey_parse_public_text(ed25519_pub, &pub, NULL);
	memset(sixty_three, 1, sizeof(sixty_three));
	sig = sig_build("ssh-ed25519", sixty_three, sizeof(sixty_three));
	T_CHECK("ed25519: 63-byte signature refused",
	    sshkey_verify(pub, buf_ptr(sig), buf_len(sig), (const uint8_t *)"x",
	        1, NULL, 0) == ERR_SIGNATURE);
	buf_free(sig);
	T_CHECK("ed25519: sig_alg_ok",
	    sshkey_sig_alg_ok(pub, "ssh-ed25519", 0) &&
	        !sshkey_sig_alg_ok(pub, "ssh-rsa", 1) &&
	        !sshkey_sig_alg_ok(pub, NULL, 1));
	T_CHECK("ed25519: garbage signature blob",
	    sshkey_verify(pub, (const uint8_t *)"\0\0\0", 3,
	        (const uint8_t *)"x", 1, NULL, 0) != 0);
	sshkey_free(pub);
}

/*
 * FingerprintHash: every digest sshd accepts, printed as ssh-keygen -l -E
 * prints it (expected values from ssh-keygen 9.2 on ed25519_pub).
 */
static void
test_fingerprint_digests(void)
{
	static const struct {
		int alg;
		const char *fp;
	} want[] = {
	    {DIGEST_MD5, "MD5:fb:49:20:d3:34:c6:c9:f9:61:13:e0:5e:53:54:85:b9"},
	    {DIGEST_SHA1, "SHA1:P0Rx3fxLJbCZYMSUA17s/v6jISE"},
	    {DIGEST_SHA384,
	        "SHA384:3r/JrNM1g3bWZ0FGS3EtP9SY4tBkpxNm7TIQ+/JYJ/"
	        "AVR1AdwlJSeZfhdqhpsnMf"},
	    {DIGEST_SHA512,
	        "SHA512:WHEA5rWWbvyz4uNrd3l7tuxG7zPHG3eqFKuMLO7wgaXi1IE+"
	        "p24IWnyTegH6Q+08qICA93NCy9Hf1JkXCK7X0Q"},
	    {DIGEST_SHA256,
	        "SHA256:l5Gke7yQFX4h9RJWxe26eg++Mp/ynBHmFYDYWh+D8Ck"},
	};
	struct sshkey *k = NULL;
	char fp[SSHKEY_FP_LEN], name[64];
	size_t i;

	if (sshkey_parse_public_text(ed25519_pub, &k, NULL) != 0) {
		T_CHECK("fingerprint digests: parse", 0);
		return;
	}
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(name, sizeof(name), "fingerprint as ssh-keygen -E %s",
		    digest_name(want[i].alg));
		T_CHECK(name,
		    sshkey_set_fingerprint_digest(want[i].alg) == 0 &&
		        sshkey_fingerprint(k, fp, sizeof(fp)) == 0 &&
		        strcmp(fp, want[i].fp) == 0);
	}
	T_CHECK("fingerprint digest: unknown id refused, SHA256 kept",
	    sshkey_set_fingerprint_digest(99) == ERR_NOT_FOUND &&
	        sshkey_fingerprint(k, fp, sizeof(fp)) == 0 &&
	        strncmp(fp, "SHA256:", 7) == 0);
	T_CHECK("digest_from_name: any case, unknown -1",
	    digest_from_name("md5") == DIGEST_MD5 &&
	        digest_from_name("Sha512") == DIGEST_SHA512 &&
	        digest_from_name("sha3") == -1);
	sshkey_free(k);
}

int
main(void)
{
	struct sshkey *pub, *other = NULL;
	size_t i;

	for (i = 0; i < N_FIXTURES; i++) {
		test_public(&fixtures[i], &pub);
		if (pub == NULL)
			continue;
		test_private(&fixtures[i], pub);
		test_sshsig(&fixtures[i], pub);
		sshkey_free(pub);
	}
	/* Keys of different types and sizes are never equal. */
	sshkey_parse_public_text(rsa2048_pub, &pub, NULL);
	sshkey_parse_public_text(rsa3072_pub, &other, NULL);
	T_CHECK("equal_public: different keys",
	    pub != NULL && other != NULL && !sshkey_equal_public(pub, other) &&
	        sshkey_equal_public(pub, pub));
	sshkey_free(pub);
	sshkey_free(other);
	test_rsa_algs();
	test_bad_rsa();
	test_bad_ecdsa();
	test_text();
	test_rfc8032();
	test_private_format();
	test_ed25519_sig();
	test_fingerprint_digests();
	return T_DONE();
}
