#!/bin/sh
# The vksroom access rules for ejabberd (23.01) mod_mqtt: the same rights as
# firmware/mosquitto/vksroom.acl.template, as ejabberd spells them (acl + access_rules +
# mod_mqtt's access_publish / access_subscribe, which map topic filters to access rules).
#
#   vksroom-mqtt.sh ROOMS_FILE HOST [PREFIX] > /etc/ejabberd/conf.d/vksroom-mqtt.yml
#
# ROOMS_FILE: one room a line, "court_id/courtroom"; the room logs in as the ejabberd user
# court_id.courtroom@HOST (a "/" may not stand in an XMPP user name), so its mqtt.username
# is "court_id.courtroom@HOST". The scheduler is scheduler@HOST. Include the output from
# ejabberd.yml (include_config_file) on every node; users: ejabberdctl register.
# A topic filter takes the first rule that names it; everything else is refused.
set -eu
rooms=${1:?usage: vksroom-mqtt.sh ROOMS_FILE HOST [PREFIX]}
host=${2:?usage: vksroom-mqtt.sh ROOMS_FILE HOST [PREFIX]}
prefix=${3:-vks}
list=$(grep -v '^[[:space:]]*\(#\|$\)' "$rooms" | awk '$1 != "scheduler" {print $1}')
echo "acl:"
echo "  vksroom_scheduler:"
echo "    user: {scheduler: $host}"
for r in $list; do
  echo "  vksroom_$(echo "$r" | tr '/.-' '___'):"
  echo "    user: {$(echo "$r" | tr '/' '.'): $host}"
done
echo "access_rules:"
echo "  vksroom_scheduler:"
echo "    allow: vksroom_scheduler"
echo "  vksroom_rooms:"
echo "    allow:"
for r in $list; do echo "      - vksroom_$(echo "$r" | tr '/.-' '___')"; done
echo "      - vksroom_scheduler"
for r in $list; do
  echo "  vksroom_room_$(echo "$r" | tr '/.-' '___'):"
  echo "    allow: vksroom_$(echo "$r" | tr '/.-' '___')"
done
echo "modules:"
echo "  mod_mqtt:"
echo "    access_publish:"
for r in $list; do
  for t in lifecycle readiness replies "events/#"; do
    echo "      \"$prefix/$r/$t\": vksroom_room_$(echo "$r" | tr '/.-' '___')"
  done
done
echo "      \"$prefix/+/+/commands\": vksroom_scheduler"
echo "      \"$prefix/broadcast/status-request\": vksroom_scheduler"
echo "      \"#\": none"
echo "    access_subscribe:"
for r in $list; do
  echo "      \"$prefix/$r/commands\": vksroom_room_$(echo "$r" | tr '/.-' '___')"
done
echo "      \"$prefix/broadcast/status-request\": vksroom_rooms"
echo "      \"$prefix/#\": vksroom_scheduler"
echo "      \"#\": none"
