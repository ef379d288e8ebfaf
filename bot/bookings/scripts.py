"""The Lua scripts behind bot.bookings.store: each operation that moves a seat runs as one.

Every script gets the same head of arguments, so the rules in force are those of the caller:

    ARGV[1] base "<prefix>:{bk}"   ARGV[2] now (epoch s)      ARGV[3] booking opens, s before the day
    ARGV[4] same-day cut-off, s after midnight (-1: until the start)
    ARGV[5] max upcoming   ARGV[6] offer window s   ARGV[7] reminder, s after the day before's midnight
    ARGV[8] how long records are kept after the slot ends, s
    ARGV[9…] the operation's own arguments

KEYS[1] is the `seq` key: it routes the call on Redis Cluster. The other keys are built from
the base; all share the `{bk}` hash tag, hence KEYS[1]'s hash slot.

A seat of a slot is taken by a booking (`booked`) or held by an offer (`offered`). A freed
seat goes to the first waiting parent as an offer while booking is open (`promote`); when an
offer ends unaccepted the seat is offered to the next one, or returns to the slot.
"""

PRELUDE = r"""
local B = ARGV[1]
local NOW = tonumber(ARGV[2])
local AHEAD_S, CUTOFF_S, MAX_UPCOMING = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local WINDOW_S, REMIND_S, KEEP_S = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])

local function key(...) return B .. ':' .. table.concat({...}, ':') end

local function hash(k)
  local flat = redis.call('HGETALL', k)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end

local function ttl_for(slot) return math.max(60, tonumber(slot['end']) - NOW + KEEP_S) end

local function keep(k, ttl)
  if redis.call('TTL', k) < ttl then redis.call('EXPIRE', k, ttl) end
end

local function closes_at(slot)
  local start = tonumber(slot.start)
  if CUTOFF_S < 0 then return start end
  return math.min(start, tonumber(slot.day) + CUTOFF_S)
end

local function taken(slot_id)
  return redis.call('HLEN', key('slot', slot_id, 'booked')) + redis.call('HLEN', key('slot', slot_id, 'offered'))
end

-- Why `slot` may not be booked now, if it may not.
local function slot_refusal(slot)
  if not slot.start then return 'no_such_slot' end
  if slot.status ~= 'open' then return 'closed' end
  if NOW >= closes_at(slot) then return 'too_late' end
  if NOW < tonumber(slot.day) - AHEAD_S then return 'too_early' end
  return nil
end

-- Why `user` may not take a seat in `slot`: too many upcoming bookings, or one at the same time.
local function user_refusal(user, slot)
  local count = 0
  for _, bid in ipairs(redis.call('ZRANGEBYSCORE', key('user', user, 'bookings'), '(' .. NOW, '+inf')) do
    local b = redis.call('HMGET', key('booking', bid), 'status', 'start', 'end')
    if b[1] == 'booked' then
      count = count + 1
      if tonumber(b[2]) < tonumber(slot['end']) and tonumber(slot.start) < tonumber(b[3]) then
        return 'overlaps', bid
      end
    end
  end
  if count >= MAX_UPCOMING then return 'too_many', '' end
  return nil
end

local function leave_waitlist(user, slot_id)
  redis.call('ZREM', key('slot', slot_id, 'waiting'), user)
  redis.call('HDEL', key('slot', slot_id, 'who'), user)
  redis.call('SREM', key('user', user, 'waiting'), slot_id)
end

local function create_booking(user, slot_id, slot, children, name)
  local bid = 'b' .. redis.call('HINCRBY', key('seq'), 'booking', 1)
  local ttl = ttl_for(slot)
  local bk = key('booking', bid)
  redis.call('HSET', bk, 'user', user, 'slot', slot_id, 'center', slot.center, 'start', slot.start,
             'end', slot['end'], 'children', children, 'name', name, 'status', 'booked', 'created', NOW)
  redis.call('EXPIRE', bk, ttl)
  local booked = key('slot', slot_id, 'booked')
  redis.call('HSET', booked, user, bid)
  keep(booked, ttl)
  local mine = key('user', user, 'bookings')
  redis.call('ZREMRANGEBYSCORE', mine, '-inf', '(' .. (NOW - KEEP_S))
  redis.call('ZADD', mine, slot['end'], bid)
  keep(mine, ttl)
  local remind = tonumber(slot.day) - 86400 + REMIND_S
  if remind > NOW then redis.call('ZADD', key('reminders'), remind, bid) end
  if redis.call('SISMEMBER', key('user', user, 'waiting'), slot_id) == 1 then leave_waitlist(user, slot_id) end
  return bid
end

-- Ends an offer (accepted, declined, expired, closed): its seat is no longer held. Returns its slot.
local function release_offer(oid, status)
  local ok = key('offer', oid)
  redis.call('ZREM', key('offers'), oid)
  redis.call('ZREM', key('offers', 'unsent'), oid)
  local o = redis.call('HMGET', ok, 'user', 'slot')
  if not o[1] then return nil end
  redis.call('HSET', ok, 'status', status)
  redis.call('HDEL', key('slot', o[2], 'offered'), o[1])
  return o[2]
end

-- Free seats of a slot go to its waitlist, first come first offered, while booking is open.
local function promote(slot_id)
  local made = {}
  if not slot_id then return made end
  local slot = hash(key('slot', slot_id))
  if slot.status ~= 'open' or NOW >= closes_at(slot) then return made end
  local waiting, who, offered = key('slot', slot_id, 'waiting'), key('slot', slot_id, 'who'), key('slot', slot_id, 'offered')
  local ttl = ttl_for(slot)
  local expires = math.min(NOW + WINDOW_S, closes_at(slot))
  while taken(slot_id) < tonumber(slot.capacity) do
    local first = redis.call('ZRANGE', waiting, 0, 0)
    if #first == 0 then break end
    local user = first[1]
    local entry = cjson.decode(redis.call('HGET', who, user) or '{"children":1,"name":""}')
    leave_waitlist(user, slot_id)
    local oid = 'o' .. redis.call('HINCRBY', key('seq'), 'offer', 1)
    local ok = key('offer', oid)
    redis.call('HSET', ok, 'user', user, 'slot', slot_id, 'children', entry.children, 'name', entry.name,
               'expires', expires, 'status', 'pending', 'created', NOW)
    redis.call('EXPIRE', ok, ttl)
    redis.call('HSET', offered, user, oid)
    keep(offered, ttl)
    redis.call('SADD', key('user', user, 'offers'), oid)
    keep(key('user', user, 'offers'), ttl)
    redis.call('ZADD', key('offers'), expires, oid)
    redis.call('ZADD', key('offers', 'unsent'), NOW, oid)
    made[#made + 1] = oid
  end
  return made
end
"""

# ARGV[9…] center, date (YYYY-MM-DD), its 00:00 (epoch s), then (slot id, start, end, capacity, age group) per template slot
MATERIALISE = PRELUDE + r"""
local center, date, day, created = ARGV[9], ARGV[10], ARGV[11], 0
for i = 12, #ARGV, 5 do
  local slot_id = ARGV[i]
  local sk = key('slot', slot_id)
  if redis.call('EXISTS', sk) == 0 then
    local slot = {start = ARGV[i + 1], ['end'] = ARGV[i + 2]}
    redis.call('HSET', sk, 'center', center, 'start', slot.start, 'end', slot['end'], 'day', day,
               'capacity', ARGV[i + 3], 'age_group', ARGV[i + 4], 'status', 'open', 'origin', 'template')
    redis.call('EXPIRE', sk, ttl_for(slot))
    local index = key('day', center, date)
    redis.call('ZADD', index, slot.start, slot_id)
    keep(index, ttl_for(slot))
    created = created + 1
  end
end
return created
"""

# ARGV[9…] slot id stem (center@start), center, date (YYYY-MM-DD), its 00:00 (epoch s), start, end, capacity
ADD_SLOT = PRELUDE + r"""
local slot_id = ARGV[9] .. '/s' .. redis.call('HINCRBY', key('seq'), 'slot', 1)
local slot = {start = ARGV[13], ['end'] = ARGV[14]}
local sk = key('slot', slot_id)
redis.call('HSET', sk, 'center', ARGV[10], 'start', slot.start, 'end', slot['end'], 'day', ARGV[12],
           'capacity', ARGV[15], 'age_group', '', 'status', 'open', 'origin', 'staff')
redis.call('EXPIRE', sk, ttl_for(slot))
local index = key('day', ARGV[10], ARGV[11])
redis.call('ZADD', index, slot.start, slot_id)
keep(index, ttl_for(slot))
return slot_id
"""

# ARGV[9…] slot id, user, children, name
BOOK = PRELUDE + r"""
local slot_id, user = ARGV[9], ARGV[10]
local slot = hash(key('slot', slot_id))
local refusal = slot_refusal(slot)
if refusal then return {refusal} end
local existing = redis.call('HGET', key('slot', slot_id, 'booked'), user)
if existing then return {'already_booked', existing} end
local problem, other = user_refusal(user, slot)
if problem then return {problem, other} end
local held = redis.call('HGET', key('slot', slot_id, 'offered'), user)
if held then
  release_offer(held, 'accepted')
elseif taken(slot_id) >= tonumber(slot.capacity) then
  return {'full'}
end
local bid = create_booking(user, slot_id, slot, ARGV[11], ARGV[12])
return {'booked', bid, redis.call('HGETALL', key('booking', bid))}
"""

# ARGV[9…] slot id, user, children, name
JOIN_WAITLIST = PRELUDE + r"""
local slot_id, user = ARGV[9], ARGV[10]
local slot = hash(key('slot', slot_id))
local refusal = slot_refusal(slot)
if refusal then return {refusal} end
if redis.call('HEXISTS', key('slot', slot_id, 'booked'), user) == 1 then return {'already_booked'} end
if redis.call('HEXISTS', key('slot', slot_id, 'offered'), user) == 1 then return {'already_waiting', 0} end
local waiting = key('slot', slot_id, 'waiting')
local rank = redis.call('ZRANK', waiting, user)
if rank then return {'already_waiting', rank + 1} end
if taken(slot_id) < tonumber(slot.capacity) then return {'not_full'} end
local ttl = ttl_for(slot)
redis.call('ZADD', waiting, redis.call('HINCRBY', key('seq'), 'waiting', 1), user)
redis.call('HSET', key('slot', slot_id, 'who'), user, cjson.encode({children = tonumber(ARGV[11]), name = ARGV[12]}))
redis.call('SADD', key('user', user, 'waiting'), slot_id)
for _, k in ipairs({waiting, key('slot', slot_id, 'who'), key('user', user, 'waiting')}) do keep(k, ttl) end
return {'waiting', redis.call('ZRANK', waiting, user) + 1}
"""

# ARGV[9…] user, booking id
CANCEL = PRELUDE + r"""
local user, bid = ARGV[9], ARGV[10]
local b = hash(key('booking', bid))
if b.user ~= user then return {'no_such_booking'} end
if b.status ~= 'booked' then return {'already_cancelled'} end
if NOW >= tonumber(b.start) then return {'too_late'} end
redis.call('HSET', key('booking', bid), 'status', 'cancelled', 'cancelled', NOW)
redis.call('HDEL', key('slot', b.slot, 'booked'), user)
redis.call('ZREM', key('reminders'), bid)
return {'cancelled', promote(b.slot)}
"""

# ARGV[9…] user, offer id
ACCEPT_OFFER = PRELUDE + r"""
local user, oid = ARGV[9], ARGV[10]
local o = hash(key('offer', oid))
if o.user ~= user then return {'no_such_offer'} end
if o.status == 'expired' then return {'expired'} end
if o.status ~= 'pending' then return {'no_such_offer'} end
if NOW >= tonumber(o.expires) then
  promote(release_offer(oid, 'expired'))
  return {'expired'}
end
local slot = hash(key('slot', o.slot))
local problem, other = user_refusal(user, slot)
if problem then return {problem, other} end
release_offer(oid, 'accepted')
local bid = create_booking(user, o.slot, slot, o.children, o.name)
return {'booked', bid, redis.call('HGETALL', key('booking', bid))}
"""

# ARGV[9…] user, offer id
DECLINE_OFFER = PRELUDE + r"""
local user, oid = ARGV[9], ARGV[10]
local o = hash(key('offer', oid))
if o.user ~= user or o.status ~= 'pending' then return {'no_such_offer'} end
return {'declined', promote(release_offer(oid, 'declined'))}
"""

# ARGV[9] at most this many offers
EXPIRE_OFFERS = PRELUDE + r"""
local ended = redis.call('ZRANGEBYSCORE', key('offers'), '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[9]))
for _, oid in ipairs(ended) do promote(release_offer(oid, 'expired')) end
return ended
"""

# ARGV[9] slot id, ARGV[10] reason
CLOSE_SLOT = PRELUDE + r"""
local slot_id = ARGV[9]
local slot = hash(key('slot', slot_id))
if not slot.start then return {'no_such_slot'} end
if slot.status ~= 'open' then return {'already_closed'} end
redis.call('HSET', key('slot', slot_id), 'status', 'closed', 'reason', ARGV[10])
local bookings, users = {}, {}
local booked = redis.call('HGETALL', key('slot', slot_id, 'booked'))
for i = 1, #booked, 2 do
  redis.call('HSET', key('booking', booked[i + 1]), 'status', 'closed')
  redis.call('ZREM', key('reminders'), booked[i + 1])
  bookings[#bookings + 1] = booked[i + 1]
end
redis.call('DEL', key('slot', slot_id, 'booked'))
local offered = redis.call('HGETALL', key('slot', slot_id, 'offered'))
for i = 1, #offered, 2 do
  release_offer(offered[i + 1], 'closed')
  users[#users + 1] = offered[i]
end
for _, user in ipairs(redis.call('ZRANGE', key('slot', slot_id, 'waiting'), 0, -1)) do
  leave_waitlist(user, slot_id)
  users[#users + 1] = user
end
return {'closed', bookings, users}
"""

# ARGV[9] at most this many. Claimed reminders are marked sent at once: each goes out at most once.
DUE_REMINDERS = PRELUDE + r"""
local due = redis.call('ZRANGEBYSCORE', key('reminders'), '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[9]))
local out = {}
for _, bid in ipairs(due) do
  redis.call('ZREM', key('reminders'), bid)
  local b = redis.call('HMGET', key('booking', bid), 'status', 'start')
  if b[1] == 'booked' and tonumber(b[2]) > NOW then
    redis.call('HSET', key('booking', bid), 'reminded', NOW)
    out[#out + 1] = bid
  end
end
return out
"""

# ARGV[9] at most this many. Like reminders, each offer is handed out once.
OFFERS_TO_NOTIFY = PRELUDE + r"""
local fresh = redis.call('ZRANGE', key('offers', 'unsent'), 0, tonumber(ARGV[9]) - 1)
local out = {}
for _, oid in ipairs(fresh) do
  redis.call('ZREM', key('offers', 'unsent'), oid)
  local o = redis.call('HMGET', key('offer', oid), 'status', 'expires')
  if o[1] == 'pending' and tonumber(o[2]) > NOW then out[#out + 1] = oid end
end
return out
"""

# ARGV[9] user. Their seats are freed (and offered on), their records deleted.
FORGET_USER = PRELUDE + r"""
local user = ARGV[9]
local to_promote, bookings, offers = {}, 0, 0
local mine = key('user', user, 'bookings')
for _, bid in ipairs(redis.call('ZRANGE', mine, 0, -1)) do
  local b = redis.call('HMGET', key('booking', bid), 'status', 'slot')
  if b[1] == 'booked' then
    redis.call('HDEL', key('slot', b[2], 'booked'), user)
    redis.call('ZREM', key('reminders'), bid)
    to_promote[b[2]] = true
    bookings = bookings + 1
  end
  redis.call('DEL', key('booking', bid))
end
local waiting = redis.call('SMEMBERS', key('user', user, 'waiting'))
for _, slot_id in ipairs(waiting) do leave_waitlist(user, slot_id) end
for _, oid in ipairs(redis.call('SMEMBERS', key('user', user, 'offers'))) do
  local o = redis.call('HGET', key('offer', oid), 'status')
  if o == 'pending' then
    local slot_id = release_offer(oid, 'declined')
    if slot_id then to_promote[slot_id] = true end
    offers = offers + 1
  end
  redis.call('DEL', key('offer', oid))
end
redis.call('DEL', mine, key('user', user, 'waiting'), key('user', user, 'offers'))
for slot_id in pairs(to_promote) do promote(slot_id) end
return {bookings, #waiting, offers}
"""
