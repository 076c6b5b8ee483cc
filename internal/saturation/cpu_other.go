//go:build !unix

package saturation

import "time"

// processCPU is not available here: Runtime.CPUUtilPct falls back to runtime/metrics.
func processCPU() (time.Duration, bool) { return 0, false }
