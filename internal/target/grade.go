package target

import (
	"fmt"
	"strings"
)

// Grade is how a metric value compares with its bounds, best first; the zero
// value is "unset" (a Gate reads it as GradeAcceptable).
type Grade int

// The grades, from best to worst.
const (
	// GradeTarget means the value meets the target bound.
	GradeTarget Grade = iota + 1
	// GradeAcceptable means the value misses the target but meets the acceptable bound.
	GradeAcceptable
	// GradeNeedsInvestigation means the value lies between the acceptable and the poor bound.
	GradeNeedsInvestigation
	// GradePoor means the value is beyond the poor bound.
	GradePoor
)

// String returns the grade as the seed's table spells it, e.g. "Needs investigation".
func (g Grade) String() string {
	switch g {
	case GradeTarget:
		return "Target"
	case GradeAcceptable:
		return "Acceptable"
	case GradeNeedsInvestigation:
		return "Needs investigation"
	case GradePoor:
		return "Poor"
	}
	return fmt.Sprintf("Grade(%d)", int(g))
}

// Valid reports whether g is one of the four grades.
func (g Grade) Valid() bool { return g >= GradeTarget && g <= GradePoor }

// ParseGrade parses a grade name, case-insensitively: "target", "acceptable",
// "needs-investigation" (or "needs investigation") and "poor".
func ParseGrade(s string) (Grade, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "target":
		return GradeTarget, nil
	case "acceptable":
		return GradeAcceptable, nil
	case "needs-investigation", "needs investigation":
		return GradeNeedsInvestigation, nil
	case "poor":
		return GradePoor, nil
	}
	return 0, fmt.Errorf("grade %q: want target, acceptable, needs-investigation or poor", s)
}

// MarshalText encodes the grade as its String form, so JSON reports read "Poor", not 4.
func (g Grade) MarshalText() ([]byte, error) {
	if !g.Valid() {
		return nil, fmt.Errorf("marshal grade: invalid grade %d", int(g))
	}
	return []byte(g.String()), nil
}

// UnmarshalText decodes a grade with ParseGrade, so Grade works with flag.TextVar.
func (g *Grade) UnmarshalText(b []byte) error {
	v, err := ParseGrade(string(b))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
