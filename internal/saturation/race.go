//go:build race

package saturation

// raceEnabled: this binary was built with the race detector, which slows the
// generator several times over.
const raceEnabled = true
