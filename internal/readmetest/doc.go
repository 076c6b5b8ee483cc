// Package readmetest checks that the README's examples run as written: its
// test copies the "Writing your own scenario" file into a scratch module that
// requires this one and runs it against the X-Agent fake.
package readmetest
