-- referrer_value: billed and paid amounts of the clients each referrer (or channel)
-- sent, over the window ending at the report month: the clients referred in the
-- window_months complete months ending on its last day, with all their claim lines.
-- source_kind (appended) tells referrers from channels.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        getvariable('window_months')::INTEGER as window_months
)

select
    r.referrer,
    count(*)::INTEGER as clients,
    sum(r.billed)::DECIMAL(12,2) as billed,
    sum(r.paid)::DECIMAL(12,2) as paid,
    any_value(r.source_kind) as source_kind
from referrals r, params p
where r.source_kind in ('referrer', 'channel')
  and r.referral_month > p.report_month - to_months(p.window_months)
  and r.referral_date <= p.report_end
group by r.referrer
