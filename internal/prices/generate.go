package prices

import (
	"bufio"
	"fmt"
	"io"
)

// The generator writes a large, valid tall-CSV price file of made-up
// services, for benchmarks and evals: real files run to millions of rows,
// and no real one ships with the code.

var (
	genBodyParts = []string{"brain", "knee", "shoulder", "spine", "abdomen", "pelvis", "chest", "hip", "ankle", "wrist",
		"neck", "elbow", "foot", "hand", "sinus", "heart", "kidney", "liver", "thyroid", "breast"}
	genProcedures = []string{"MRI", "CT scan", "X-ray", "ultrasound", "biopsy", "arthroscopy", "injection", "repair",
		"nerve block", "angiogram", "PET scan", "bone scan", "therapy session", "consultation", "follow-up visit",
		"debridement", "drainage", "excision", "reconstruction", "screening"}
	genModes   = []string{"without contrast", "with contrast", "with and without contrast", "limited", "complete"}
	genPayers  = []string{"Acme Health", "Blue Ridge Insurance", "Cedar Mutual", "Delta Care", "Evergreen Health Plan"}
	genPlans   = []string{"PPO", "HMO"}
	genMethods = []string{"fee schedule", "case rate", "per diem", "percent of total billed charges", "other"}
)

// GenItems is how many distinct items the generator can make.
var GenItems = len(genBodyParts) * len(genProcedures) * len(genModes)

// GenDescription is the description of generated item i (0 <= i < GenItems).
func GenDescription(i int) string {
	m := i % len(genModes)
	p := (i / len(genModes)) % len(genProcedures)
	b := (i / len(genModes) / len(genProcedures)) % len(genBodyParts)
	return genProcedures[p] + " of " + genBodyParts[b] + " (" + genModes[m] + ")"
}

// GenCode is the CPT-shaped code of generated item i.
func GenCode(i int) string { return fmt.Sprintf("%05d", 10000+i) }

// GenPlans are the generator's payers and plans, in file order.
func GenPlans() []Payer {
	var out []Payer
	for _, p := range genPayers {
		for _, pl := range genPlans {
			out = append(out, Payer{p, pl})
		}
	}
	return out
}

// GenCash is the discounted cash price of generated item i (in the file as
// written, cents included when not zero).
func GenCash(i int) Amount {
	cents := 10000 + (i*7919)%900000
	if cents%100 == 0 {
		return Amount(fmt.Sprint(cents / 100))
	}
	a, _ := parseAmount(fmt.Sprintf("%d.%02d", cents/100, cents%100))
	return a
}

// GenDollar is plan j's negotiated dollar amount for item i.
func GenDollar(i, j int) Amount {
	cents := 5000 + (i*104729+j*7907)%800000
	a, _ := parseAmount(fmt.Sprintf("%d.%02d", cents/100, cents%100))
	return a
}

// GenerateTall writes a v3.0.0 tall CSV with rows charge rows: item after
// item (cycling through GenItems, each repeat in another setting... and
// then again with a "version" suffix) with one row per payer and plan.
func GenerateTall(w io.Writer, rows int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintln(bw, `hospital_name,last_updated_on,version,location_name,hospital_address,license_number|CA,type_2_npi,"To the best of its knowledge and belief, this hospital has included all applicable standard charge information",attester_name`)
	fmt.Fprintln(bw, `Generated Hospital,2026-05-01,3.0.0,Generated Hospital,"1 Test Road, Springfield, CA 90000",12345,0000000009,true,Test Attester`)
	fmt.Fprintln(bw, "description,code|1,code|1|type,setting,drug_unit_of_measurement,drug_type_of_measurement,"+
		"standard_charge|gross,standard_charge|discounted_cash,payer_name,plan_name,modifiers,"+
		"standard_charge|negotiated_dollar,standard_charge|negotiated_percentage,standard_charge|negotiated_algorithm,"+
		"median_amount,10th_percentile,90th_percentile,count,standard_charge|min,standard_charge|max,"+
		"standard_charge|methodology,additional_generic_notes")
	plans := GenPlans()
	for n := 0; n < rows; {
		item := n / len(plans)
		i := item % GenItems
		desc := GenDescription(i)
		if round := item / GenItems; round > 0 {
			desc += fmt.Sprintf(", variant %d", round) // distinct items past the vocabulary
		}
		for j, p := range plans {
			if n == rows {
				break
			}
			method := genMethods[(i+j)%len(genMethods)]
			var dollar, pct, note, median, p10, p90, count string
			switch method {
			case "percent of total billed charges":
				pct, median, p10, p90, count = fmt.Sprint(50+(i+j)%40), string(GenDollar(i, j)), "100", "90000", "25"
			case "other":
				dollar, note = string(GenDollar(i, j)), "Paid under the plan's outpatient grouper."
			default:
				dollar = string(GenDollar(i, j))
			}
			fmt.Fprintf(bw, "%q,%s,CPT,outpatient,,,%s,%s,%s,%s,,%s,%s,,%s,%s,%s,%s,50,9000,%s,%s\n", desc, GenCode(i),
				"20000", GenCash(i), p.Payer, p.Plan, dollar, pct, median, p10, p90, count, method, note)
			n++
		}
	}
	return bw.Flush()
}
