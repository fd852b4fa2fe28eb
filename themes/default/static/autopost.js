// Send the protocol's answer on to the application: the form posts itself once loaded.
"use strict";
document.getElementById("autopost").submit();
