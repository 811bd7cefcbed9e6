package quant_test

import (
	"fmt"

	"qcal/quant"
	"qcal/stats"
)

func ExampleQuantizeV2() {
	// The QuantizeV2 of Intel's graphs (SCALED, HALF_TO_EVEN) on [0, 6]:
	// scale 255/6 = 42.5 codes per unit.
	z, err := quant.IntelQuantizeV2(quant.QUInt8).Prepare(0, 6)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("range:", z.Min, z.Max, "step:", z.Step())
	for _, v := range []float32{1, 3, 6.5} {
		c := z.Quantize(v)
		fmt.Printf("%g → %d → %g\n", v, c, z.Dequantize(c))
	}
	// Output:
	// range: 0 6 step: 0.023529412
	// 1 → 42 → 0.9882353
	// 3 → 128 → 3.0117648
	// 6.5 → 255 → 6
}

func ExampleHistogramError() {
	h := stats.NewHistogram()
	for i := range 1001 {
		h.Add(float32(i) / 1000) // 0, 0.001, ..., 1
	}
	for _, max := range []float32{1, 0.5} {
		z, _ := quant.IntelQuantizeV2(quant.QUInt8).Prepare(0, max)
		e := quant.HistogramError(h, z)
		fmt.Printf("[0, %g]: SQNR %.1f dB, clipped %.2f\n", max, e.SQNR, e.Clipped)
	}
	// Uniform values: SQNR = 10·log10((1/3)/(Δ²/12)) with Δ = 1/255 is
	// 54.2 dB; clipping half of them costs E[(x-½)²]/2 = 1/24 against a
	// signal of 1/3: 10·log10(8) = 9.0 dB.
	// Output:
	// [0, 1]: SQNR 54.2 dB, clipped 0.00
	// [0, 0.5]: SQNR 9.0 dB, clipped 0.50
}
