package deps

import (
	_ "github.com/HdrHistogram/hdrhistogram-go"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/prometheus/common/expfmt"
	_ "github.com/stretchr/testify/require"
	_ "go.uber.org/goleak"
)
