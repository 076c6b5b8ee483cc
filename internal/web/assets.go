package web

import (
	"embed"
	"io/fs"
	"net/http"

	"github.com/vearutop/statigz"
	"github.com/vearutop/statigz/brotli"
)

// The page's files. Each file over 1 KB has brotli (.br) and gzip (.gz)
// copies beside it, made by scripts/assets; statigz serves the smallest one
// the browser accepts, and the original to one that accepts neither.
//
//go:generate go run ../../scripts/assets
//go:embed assets
var assets embed.FS

// Assets is the page's files: index.html, app.js, app.css and uPlot's, with
// their precompressed copies.
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the directory is embedded
	}
	return sub
}

func staticHandler() http.Handler {
	return statigz.FileServer(Assets().(fs.ReadDirFS), brotli.AddEncoding)
}
