#!/bin/sh
# vksroom users and permissions on a RabbitMQ (3.10) cluster with rabbitmq_mqtt: the same
# rights as firmware/mosquitto/vksroom.acl.template, as RabbitMQ spells them.
#
#   vksroom-permissions.sh ROOMS_FILE [PREFIX] [VHOST]  | sh     (or review the commands first)
#
# ROOMS_FILE: one room a line, "court_id/courtroom password" (the room's mqtt.username and
# mqtt.password; its MQTT client id is vksroom-{court_id}-{courtroom}, the room's default).
# A last line "scheduler password" adds the central scheduler. Run once on any node: users and
# permissions are cluster-wide.
#
# RabbitMQ checks MQTT topics as AMQP routing keys on amq.topic, with every "/" of the topic
# made "." (vks/almaty-01/101/readiness is vks.almaty-01.101.readiness): that is why no topic
# level of the contract (schema_version 2) carries a dot. Topic permissions are regular
# expressions on those keys: write = publish, read = subscribe. The plain permissions let
# each client declare, bind and read only its own session queues (mqtt-subscription-<client id>qos0/1;
# the room uses its id with -2, -3 ... on its second, third ... broker URL).
set -eu
rooms=${1:?usage: vksroom-permissions.sh ROOMS_FILE [PREFIX] [VHOST]}
prefix=${2:-vks}
vhost=${3:-/}
grep -v '^[[:space:]]*\(#\|$\)' "$rooms" | while read -r user password; do
  echo "rabbitmqctl add_user '$user' '$password' 2>/dev/null || rabbitmqctl change_password '$user' '$password'"
  if [ "$user" = scheduler ]; then
    queues="mqtt-subscription-[A-Za-z0-9_.:-]+qos[01]"
    write="^$prefix\\.([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.commands|broadcast\\.status-request)\$"
    read="^$prefix\\..+\$"
  else
    court=${user%%/*}
    room=${user#*/}
    queues="mqtt-subscription-vksroom-$court-$room(-[0-9]+)?qos[01]"   # one session per broker URL
    write="^$prefix\\.$court\\.$room\\.(lifecycle|readiness|replies|events\\.[a-z0-9_-]+)\$"
    read="^$prefix\\.($court\\.$room\\.commands|broadcast\\.status-request)\$"
  fi
  echo "rabbitmqctl set_permissions -p '$vhost' '$user' '^$queues\$' '^(amq\\.topic|$queues)\$' '^(amq\\.topic|$queues)\$'"
  echo "rabbitmqctl set_topic_permissions -p '$vhost' '$user' amq.topic '$write' '$read'"
done
