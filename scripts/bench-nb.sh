#!/usr/bin/env bash
# Speed of ovnrun against ovn-nbctl and libovsdb on 1,000 switches x 10 ports (docs/speed.md); flags go to cmd/nbbench.
cd "$(dirname "$0")/.." && PATH="$PATH:/usr/local/go/bin:/usr/sbin:/sbin" exec go run ./cmd/nbbench "$@"
