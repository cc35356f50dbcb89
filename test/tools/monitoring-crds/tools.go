//go:build tools

// Package tools pins the modules that scripts/build-tools.sh uses.
package tools

import (
	_ "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
)
