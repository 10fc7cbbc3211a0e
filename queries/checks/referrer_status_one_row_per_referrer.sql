-- One status row per referrer with a referral by the report month's end: none twice,
-- none missing, no channel.
with expected as (
    select distinct referrer
    from referrals
    where source_kind = 'referrer'
      and referral_date <= last_day(getvariable('report_month')::DATE)
),

actual as (
    select referrer, count(*) as rows
    from referrer_status
    group by referrer
)

select coalesce(e.referrer, a.referrer) as referrer, coalesce(a.rows, 0) as status_rows,
       e.referrer is not null as expected
from expected e
full join actual a on a.referrer = e.referrer
where a.rows is distinct from 1 or e.referrer is null
