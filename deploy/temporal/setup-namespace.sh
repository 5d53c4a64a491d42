#!/bin/sh
# Creates the namespace dag runs in and registers the DagStudy search
# attribute (Keyword) that `dag submit` tags every run with. Idempotent.
set -eu
addr=${TEMPORAL_ADDRESS:-temporal:7233}
ns=${DAG_NAMESPACE:-default}
retention=${DAG_RETENTION:-720h}

tries=0
until temporal operator cluster health --address "$addr" >/dev/null 2>&1; do
	tries=$((tries + 1))
	if [ "$tries" -ge 60 ]; then
		echo "temporal at $addr is not healthy" >&2
		exit 1
	fi
	sleep 2
done

if ! temporal operator namespace describe --namespace "$ns" --address "$addr" >/dev/null 2>&1; then
	temporal operator namespace create --namespace "$ns" --retention "$retention" --address "$addr"
fi

# A new namespace takes a few seconds to reach every frontend: retry.
tries=0
until temporal operator search-attribute list --namespace "$ns" --address "$addr" | grep -qw DagStudy; do
	tries=$((tries + 1))
	if [ "$tries" -ge 30 ]; then
		echo "cannot register search attribute DagStudy in namespace $ns" >&2
		exit 1
	fi
	temporal operator search-attribute create --namespace "$ns" --name DagStudy --type Keyword --address "$addr" || sleep 2
done
echo "namespace $ns is ready"
