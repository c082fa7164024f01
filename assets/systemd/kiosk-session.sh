#!/bin/sh
# A minimal X session for a kiosk or hall display PC: no desktop, no screen blanking, no
# cursor, the app full screen and restarted if it ever exits. Use it as the auto-login
# session (docs/operations.md, "Kiosk mode"), e.g. /usr/local/bin/xephang-session with
#   ~/.xsession:  exec /usr/local/bin/xephang-session kiosk
# (a paired device: its own credential in ~/.config/xephang/; the first start shows its
# pairing code). A device set up before pairing existed names its id in the configuration
# file, which is then read from /etc/xephang/centre.toml:
#   ~/.xsession:  exec /usr/local/bin/xephang-session kiosk --device kiosk-sanh-1
# Needs: xserver-xorg xinit x11-xserver-utils unclutter-xfixes (Debian packages).
xset s off          # no screen saver
xset s noblank
xset -dpms          # never switch the screen off
unclutter --timeout 0 --hide-on-touch --start-hidden --fork 2>/dev/null || unclutter -idle 0 -root &
APP="${1:-kiosk}"
shift || true
case " $* " in
    *" --config "*) ;;
    *" --device "*) set -- --config /etc/xephang/centre.toml "$@" ;;
esac
while true; do
    /opt/xephang/.venv/bin/xephang "$APP" --server "${XEPHANG_SERVER:-ws://10.0.0.5:8765}" "$@"
    sleep 2
done
