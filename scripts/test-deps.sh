#!/usr/bin/env bash
# Prepares what the tests need beyond Go and the machine's services (those
# are started as docs/testing.md says): the command-line clients the
# integration tests drive the connectors with, AMQP 1.0 on RabbitMQ, and
# grpcurl in bin/tools. Whatever is already there is left alone, so a second
# run is quick.
#
#   scripts/test-deps.sh          install what is missing (make test-deps);
#                                 Debian packages and the RabbitMQ plugin
#                                 need root, otherwise it prints the commands
#   scripts/test-deps.sh --quick  the same, but what failed in the last day
#                                 (apt unreachable, no module proxy) is not
#                                 tried again (make test runs this)
#   scripts/test-deps.sh --check  change nothing; exit 1 if something is
#                                 missing
#
# Without a dependency the tests that need it skip with a message naming
# it, or fail under EVENTBRIDGE_INTEGRATION=1.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=install
case "${1:-}" in
  "") ;;
  --quick) mode=quick ;;
  --check) mode=check ;;
  *) echo "usage: $0 [--quick|--check]" >&2; exit 2 ;;
esac

GO=${GO:-go}
TOOLS=$PWD/bin/tools
GRPCURL=github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3
say() { printf 'test-deps: %s\n' "$*"; }
root() { [ "$(id -u)" = 0 ]; }

# A failure is remembered for a day so that make test does not wait for an
# unreachable mirror every time; make test-deps always tries.
failed_recently() { [ "$mode" = quick ] && [ -n "$(find "$TOOLS/.failed-$1" -mmin -1440 2>/dev/null)" ]; }
remember_failure() { mkdir -p "$TOOLS" 2>/dev/null && touch "$TOOLS/.failed-$1" 2>/dev/null; }
forget_failure() { rm -f "$TOOLS/.failed-$1"; }

missing=()

# --- Debian packages of the client programs -------------------------------
# command:package. The tests look these up on the PATH.
clients=(
  mosquitto_pub:mosquitto-clients mosquitto_sub:mosquitto-clients # test/e2e mqtt
  kcat:kcat redis-cli:redis-tools psql:postgresql-client           # test/e2e brokers
  amqp-publish:amqp-tools amqp-get:amqp-tools                      # test/e2e third-party clients
  amqp-declare-queue:amqp-tools amqp-delete-queue:amqp-tools
  ss:iproute2                                                      # nats: restart the local server
  chromium:chromium                                                # internal/console: the web console in a browser
)
pkgs=()
for c in "${clients[@]}"; do
  cmd=${c%%:*} pkg=${c#*:}
  command -v "$cmd" >/dev/null && continue
  [[ " ${pkgs[*]} " == *" $pkg "* ]] || pkgs+=("$pkg")
done
apt_install() { # packages...; quiet unless it fails
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Acquire::Retries=0 -o Acquire::http::Timeout=15 "$@" >/dev/null 2>&1
}
if [ ${#pkgs[@]} -gt 0 ]; then
  if [ "$mode" = check ]; then
    :
  elif ! root || ! command -v apt-get >/dev/null; then
    say "client programs missing; as root: apt-get install -y ${pkgs[*]}"
  elif failed_recently apt; then
    say "installing ${pkgs[*]} failed in the last day; make test-deps tries again"
  else
    say "installing ${pkgs[*]}"
    # The package lists may be there already; refresh them only if needed.
    if apt_install "${pkgs[@]}" || { apt-get update -qq -o Acquire::Retries=0 -o Acquire::http::Timeout=15 >/dev/null 2>&1 && apt_install "${pkgs[@]}"; }; then
      forget_failure apt
    else
      for p in "${pkgs[@]}"; do apt_install "$p" || say "could not install $p"; done
      remember_failure apt
    fi
  fi
  for c in "${clients[@]}"; do
    cmd=${c%%:*} pkg=${c#*:}
    command -v "$cmd" >/dev/null || missing+=("$cmd (Debian package $pkg)")
  done
fi

# --- AMQP 1.0 on RabbitMQ ------------------------------------------------
# RabbitMQ 3.x speaks AMQP 1.0 only with its rabbitmq_amqp1_0 plugin;
# version 4 speaks it natively. Without it RabbitMQ answers an AMQP 1.0
# header with its 0-9-1 one ("AMQP" 0 0 9 1) and closes.
amqp1_host=127.0.0.1 amqp1_port=5672
if [ -n "${EVENTBRIDGE_AMQP1_URL:-}" ]; then
  hp=${EVENTBRIDGE_AMQP1_URL#*://}; hp=${hp#*@}; hp=${hp%%/*}
  amqp1_host=${hp%:*} amqp1_port=${hp##*:}
  [ "$amqp1_port" = "$hp" ] && amqp1_port=5672
fi
amqp1_answer() { # the first 8 bytes the peer answers an AMQP 1.0 SASL header with, in hex
  timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "AMQP\x03\x01\x00\x00" >&3; head -c 8 <&3 | od -An -tx1' \
    "$amqp1_host" "$amqp1_port" 2>/dev/null | tr -d ' \n'
}
speaks_amqp1() { [[ "$(amqp1_answer)" =~ ^414d5150(00|03)01 ]]; }
if ! speaks_amqp1; then
  answer=$(amqp1_answer)
  if [ -z "$answer" ]; then
    missing+=("AMQP 1.0 peer: nothing answers on $amqp1_host:$amqp1_port (start RabbitMQ: rabbitmq-server -detached)")
  elif [ -n "${EVENTBRIDGE_AMQP1_URL:-}" ] || [ "$mode" = check ] || ! command -v rabbitmq-plugins >/dev/null; then
    missing+=("AMQP 1.0 on $amqp1_host:$amqp1_port (RabbitMQ 3.x: rabbitmq-plugins enable rabbitmq_amqp1_0)")
  elif ! root; then
    say "RabbitMQ does not speak AMQP 1.0; as root: rabbitmq-plugins enable rabbitmq_amqp1_0"
    missing+=("AMQP 1.0 on $amqp1_host:$amqp1_port (RabbitMQ 3.x: rabbitmq-plugins enable rabbitmq_amqp1_0)")
  else
    say "enabling RabbitMQ's rabbitmq_amqp1_0 plugin"
    rabbitmq-plugins enable rabbitmq_amqp1_0 >/dev/null 2>&1 || say "could not enable rabbitmq_amqp1_0"
    for _ in $(seq 1 60); do speaks_amqp1 && break; sleep 0.5; done
    speaks_amqp1 || missing+=("AMQP 1.0 on $amqp1_host:$amqp1_port (rabbitmq-plugins enable rabbitmq_amqp1_0 did not give it)")
  fi
fi

# --- grpcurl, which Debian does not package --------------------------------
if ! command -v grpcurl >/dev/null && [ ! -x "$TOOLS/grpcurl" ]; then
  if [ "$mode" = check ]; then
    :
  elif failed_recently grpcurl; then
    say "building grpcurl failed in the last day; make test-deps tries again"
  else
    say "building grpcurl into bin/tools"
    if GOBIN=$TOOLS GOFLAGS= "$GO" install "$GRPCURL"; then
      forget_failure grpcurl
    else
      say "could not build grpcurl"
      remember_failure grpcurl
    fi
  fi
  [ -x "$TOOLS/grpcurl" ] || missing+=("grpcurl (GOBIN=bin/tools go install $GRPCURL)")
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "missing, so the tests that need it skip (EVENTBRIDGE_INTEGRATION=1: fail):"
  printf '  - %s\n' "${missing[@]}"
  [ "$mode" = check ] && exit 1
  [ "$mode" = install ] && ! root && say "run make test-deps as root to install them"
  exit 0
fi
[ "$mode" = quick ] || say "everything the tests need is there"
exit 0
