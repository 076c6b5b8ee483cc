//go:build !race

package saturation

const raceEnabled = false
