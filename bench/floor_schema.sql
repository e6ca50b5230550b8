-- The store's write floor, by schema: the rows a 1M-line first load writes (1M order lines,
-- 250k orders, 1.25M bindings) inserted server-side into the current tables (all their keys and
-- indexes) and into a lean variant (no unique natural-key index where the UUIDv5 id already is
-- that key; bindings keyed by (external_id, entity, system) without the surrogate id), and a
-- leaner one still: the lean schema with bindings for orders only (no binding per order line).
-- psql -h 127.0.0.1 -U postgres -d test -f bench/floor_schema.sql   (figures: bench/RESULTS.md)
drop table if exists ol_s, so_s, b_s, ol_f, so_f, b_f, ol_l, so_l, b_l, ol_o, so_o, b_o;
create unlogged table ol_s as select md5('l'||i)::uuid::text as id, 'shopify'::text as origin, 'SO'||(i/4) as num, i%4 as line_no, md5('o'||(i/4))::uuid::text as order_id, 'SKU-'||(i%5000) as sku, 'desc of item '||(i%5000) as descr, (i%7)::numeric(18,4) as q, 12.5::numeric(18,4) as price, 'shopify'::text as src, now() as upd, 'map' as mname, 'v1' as mver, 'run1' as run, 'batch1' as batch from generate_series(1,1000000) i;
create unlogged table so_s as select md5('o'||i)::uuid::text as id, 'shopify'::text as origin, 'SO'||i as num, 'c'||(i%50000)||'@x.com' as email, md5('c'||(i%50000))::uuid::text as customer_id, 'open' as status, 'USD' as cur, 100.25::numeric(18,4) as total, now() as ordered, 'shopify'::text as src, now() as upd from generate_series(0,249999) i;
create unlogged table b_s as select 'SO'||(i/4)||'-'||(i%4) as ext, 'order_line' as entity, 'shopify' as system, md5('l'||i)::uuid::text as cid, now() as upd, md5(i::text) as h, 'run1' as run from generate_series(1,1000000) i
  union all select 'SO'||i, 'sales_order', 'shopify', md5('o'||i)::uuid::text, now(), md5(i::text), 'run1' from generate_series(0,249999) i;
-- full schema
create table ol_f (id varchar(36) primary key, origin varchar(64), num varchar(64), line_no int, order_id varchar(36), sku varchar(128), descr varchar(512), q numeric(18,4), price numeric(18,4), src varchar(64), upd timestamptz, mname varchar(128), mver varchar(32), run varchar(64), batch varchar(64), unique(origin,num,line_no));
create index on ol_f(order_id); create index on ol_f(sku);
create table so_f (id varchar(36) primary key, origin varchar(64), num varchar(64), email varchar(254), customer_id varchar(36), status varchar(32), cur varchar(3), total numeric(18,4), ordered timestamptz, src varchar(64), upd timestamptz, unique(origin,num));
create index on so_f(num); create index on so_f(customer_id);
create table b_f (id bigserial primary key, ext varchar(256), entity varchar(64), system varchar(64), cid varchar(36), upd timestamptz, h varchar(64), run varchar(64), unique(ext,entity,system));
create index on b_f(cid);
-- lean schema
create table ol_l (id varchar(36) primary key, origin varchar(64), num varchar(64), line_no int, order_id varchar(36), sku varchar(128), descr varchar(512), q numeric(18,4), price numeric(18,4), src varchar(64), upd timestamptz, mname varchar(128), mver varchar(32), run varchar(64), batch varchar(64));
create index on ol_l(order_id); create index on ol_l(sku);
create table so_l (id varchar(36) primary key, origin varchar(64), num varchar(64), email varchar(254), customer_id varchar(36), status varchar(32), cur varchar(3), total numeric(18,4), ordered timestamptz, src varchar(64), upd timestamptz);
create index on so_l(num); create index on so_l(customer_id);
create table b_l (ext varchar(256), entity varchar(64), system varchar(64), cid varchar(36), upd timestamptz, h varchar(64), run varchar(64), primary key(ext,entity,system));
create index on b_l(cid);
-- lean schema, order bindings only
create table ol_o (like ol_l including all); create table so_o (like so_l including all);
create table b_o (like b_l including all);
checkpoint;
\timing on
begin;
insert into ol_f select * from ol_s;
insert into so_f select * from so_s;
insert into b_f (ext,entity,system,cid,upd,h,run) select * from b_s;
commit;
checkpoint;
begin;
insert into ol_l select * from ol_s;
insert into so_l select * from so_s;
insert into b_l select * from b_s;
commit;
checkpoint;
begin;
insert into ol_o select * from ol_s;
insert into so_o select * from so_s;
insert into b_o select * from b_s where entity = 'sales_order';
commit;
\timing off
drop table ol_s, so_s, b_s, ol_f, so_f, b_f, ol_l, so_l, b_l, ol_o, so_o, b_o;
