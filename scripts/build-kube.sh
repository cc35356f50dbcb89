#!/usr/bin/env bash
# Placeholder until the test bed lands: builds kube-apiserver and etcd from Go modules.
exit 0
