-- wrk script: POST /shoot for identity c(i+1) from node n(i), cycling over the 64 shooters, each with its node's
-- credential (one line per node in $CREDENTIALS, written by the harness's server mode).
local credentials = {}
for line in io.lines(os.getenv("CREDENTIALS")) do credentials[#credentials + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local i = counter % 64
  return wrk.format("POST", "/shoot",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. credentials[i + 1], ["X-Corral-Node"] = "n" .. i},
    '{"shooter":"c' .. (i + 1) .. '"}')
end
