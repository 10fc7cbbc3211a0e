-- watch_list: one row per (list, referrer) for the referrers flagged stalled, cooling,
-- lapsed or regressed in referrer_status (see there for the rules), with a sentence
-- for the marketing lead. `since` is, per list:
--   stalled    the first month of the current stage-2 run
--   cooling    the first day of the last recent_days days (the period compared)
--   lapsed     the day of the last referral
--   regressed  the month the stage fell
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        getvariable('recent_days')::INTEGER as recent_days,
        (last_day(getvariable('report_month')::DATE) - to_days(getvariable('recent_days')::INTEGER - 1))::DATE as recent_from,
        getvariable('window_months')::INTEGER as window_months
),

flagged as (
    select s.*, unnest(string_split(s.flags, ';')) as list
    from referrer_status s
    where s.flags <> ''
),

plural as (
    select
        *,
        date_diff('month', stage_since, p.report_month) + 1 as months_in_stage,
        date_diff('month', date_trunc('month', last_referral), p.report_month) as months_quiet,
        p.recent_days,
        p.recent_from,
        p.window_months
    from flagged, params p
    where list in ('stalled', 'cooling', 'lapsed', 'regressed')
)

select
    list,
    referrer,
    point_person,
    stage,
    case list
        when 'stalled' then format('stage 2 since {} ({} months)', strftime(stage_since, '%Y-%m'), months_in_stage)
        when 'cooling' then format('{} referral{} in the last {} days vs {} in the 9 months before',
            referrals_recent, case when referrals_recent = 1 then '' else 's' end, recent_days, referrals_prior)
        when 'lapsed' then format('no referral since {} ({} month{}); {} referrals in total',
            strftime(last_referral, '%Y-%m-%d'), months_quiet, case when months_quiet = 1 then '' else 's' end, referrals_ever)
        -- A fall with no referral in its month or since came from older referrals
        -- leaving the window, not from where new clients went: said so.
        when 'regressed' then format('fell from stage {} to stage {} in {}', regressed_from,
            stage, strftime(regressed_in, '%Y-%m'))
            || case when last_referral < regressed_in
                    then format(', with no referral since {}: older referrals leaving the {}-month window moved it',
                        strftime(last_referral, '%Y-%m-%d'), window_months)
                    else '' end
    end as detail,
    case list
        when 'stalled' then stage_since
        when 'cooling' then recent_from
        when 'lapsed' then last_referral
        when 'regressed' then regressed_in
    end as since
from plural
