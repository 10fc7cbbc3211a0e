package config

import (
	"strings"
	"unicode"
)

// Field is one canonical column of an export (DOMAIN.md, "The inputs").
type Field struct {
	Name     string
	Required bool
	Kind     string   // text, date, time, money
	Headers  []string // header names recognised without mapping, in normalised form (see NormaliseHeader)
}

// SchedulingFields are the scheduling export's fields.
var SchedulingFields = []Field{
	{Name: "appointment_id", Required: true, Kind: "text", Headers: []string{"appointmentid", "apptid", "appointmentnumber", "appointmentno", "eventid", "visitid", "sessionid", "appointment", "appt", "apptno", "apptnumber"}},
	{Name: "client_id", Required: true, Kind: "text", Headers: clientHeaders},
	{Name: "clinician", Required: true, Kind: "text", Headers: []string{"clinician", "cliniciannname", "clinicianname", "provider", "providername", "therapist", "therapistname", "staff", "staffname", "practitioner", "counselor", "counsellor"}},
	{Name: "date", Required: true, Kind: "date", Headers: []string{"appointmentdate", "apptdate", "date", "sessiondate", "startdate", "visitdate", "dateofservice", "dos", "servicedate",
		// A date and its time in one column, as reports write them ("Date/Time": %m/%d/%Y %I:%M %p).
		"datetime", "dateandtime", "appointmentdatetime", "apptdatetime", "startdatetime"}},
	{Name: "time", Kind: "text", Headers: []string{"starttime", "time", "appointmenttime", "appttime"}},
	{Name: "status", Required: true, Kind: "text", Headers: []string{"status", "appointmentstatus", "apptstatus", "attendance", "attendancestatus", "visitstatus"}},
	{Name: "service", Kind: "text", Headers: []string{"service", "servicetype", "appointmenttype", "appttype", "servicecode", "type", "sessiontype"}},
	{Name: "referral_source", Kind: "text", Headers: []string{"referralsource", "referredby", "referrer", "referrername", "source", "referral", "leadsource", "howdidyouhearaboutus"}},
	{Name: "referred_to", Kind: "text", Headers: []string{"referredto", "requestedclinician", "requestedprovider", "referredtoclinician", "referredtoprovider"}},
	{Name: "referrer_npi", Kind: "text", Headers: []string{"referrernpi", "referringnpi", "referringprovidernpi", "referralsourcenpi"}},
}

// BillingFields are the billing export's fields.
var BillingFields = []Field{
	{Name: "line_id", Required: true, Kind: "text", Headers: []string{"claimlineid", "lineid", "chargeid", "claimline", "lineitemid", "transactionid", "serviceline", "servicelineid", "claimlinenumber"}},
	{Name: "client_id", Required: true, Kind: "text", Headers: clientHeaders},
	{Name: "service_date", Required: true, Kind: "date", Headers: []string{"dos", "dateofservice", "servicedate", "date", "fromdate", "dosfrom"}},
	{Name: "rendering_provider", Required: true, Kind: "text", Headers: []string{"renderingprovider", "renderingprovidername", "provider", "providername", "clinician", "renderingclinician"}},
	{Name: "rendering_npi", Kind: "text", Headers: []string{"renderingprovidernpi", "renderingnpi", "providernpi"}},
	{Name: "referring_provider", Kind: "text", Headers: []string{"referringprovider", "referringprovidername", "referringphysician", "referredby"}},
	{Name: "referring_npi", Kind: "text", Headers: []string{"referringprovidernpi", "referringnpi", "referringphysiciannpi"}},
	{Name: "payer", Kind: "text", Headers: []string{"payer", "payername", "insurance", "primaryinsurance", "insurancecompany", "carrier", "plan"}},
	{Name: "cpt", Kind: "text", Headers: []string{"cptcode", "cpt", "procedurecode", "procedure", "code", "servicecode"}},
	{Name: "charge", Kind: "money", Headers: []string{"charge", "charges", "chargeamount", "billed", "billedamount", "fee", "amount"}},
	{Name: "paid", Kind: "money", Headers: []string{"paid", "paidamount", "payment", "payments", "totalpaid", "amountpaid", "insurancepaid"}},
}

var clientHeaders = []string{"clientid", "patientid", "patientaccount", "patientaccountnumber", "accountnumber", "accountno", "account", "clientaccount", "clientnumber", "clientno", "chartnumber", "mrn", "patientnumber",
	"patientacct", "patientacctno", "acct", "acctno", "chart", "chartno"}

// Fields returns the fields of a source ("scheduling" or "billing").
func Fields(source string) []Field {
	if source == "billing" {
		return BillingFields
	}
	return SchedulingFields
}

// FieldNames lists a source's field names.
func FieldNames(source string) []string {
	var out []string
	for _, f := range Fields(source) {
		out = append(out, f.Name)
	}
	return out
}

// KnownField reports whether name is a field of source.
func KnownField(source, name string) bool {
	for _, f := range Fields(source) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// NormaliseHeader folds a header for matching: lower case, letters and
// digits only ("Patient Account #" -> "patientaccount").
func NormaliseHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
