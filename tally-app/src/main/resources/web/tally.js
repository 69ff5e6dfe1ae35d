/*! tally.js */
((d,h,L,n)=>{let s=d.currentScript,D=s?.dataset,e=encodeURIComponent,o,t,l,q=()=>{},H=()=>L.href.split("#")[0],
g=()=>d.querySelectorAll("[data-tally-views]").forEach(x=>fetch(o+"/api/views?path="+e(x.dataset.tallyViews||L.pathname)+(t?"&site="+e(t):"")).then(r=>r.json()).then(j=>j.views>=0&&(x.textContent=j.views)).catch(q)),
S=j=>{let a=o+"/api/event",b=JSON.stringify({url:H(),site:t,...j});try{if(localStorage.tally_ignore)return}catch{}
"respectDnt"in D&&(n.globalPrivacyControl||n.doNotTrack==1||self.doNotTrack==1)||n.sendBeacon?.(a,b)||fetch(a,{method:"POST",keepalive:!0,body:b}).catch(q)},
E=(v,p)=>S({event:v,props:p}),v=(u=H())=>{if(u!=l){S({referrer:l||d.referrer});l&&setTimeout(g,99);l=u}},
R=()=>{g();d.querySelector("[data-tally-404]")&&E("404",{path:L.pathname})};if(!s?.src)return;o=new URL(s.src).origin;t=D.site||void 0;self.tally={event:E};
addEventListener("click",x=>{let a=x.target.closest("[data-tally-event],a[href]"),u,p=a?.dataset.tallyEvent;if(p){try{u=JSON.parse(a.dataset.tallyProps)}catch{}E(p,u)}else if(a){u=new URL(a.href,L);p={url:u.href.slice(0,256)};
"downloads"in D&&(a.hasAttribute("download")||/\.(pdf|zip|dmg|exe|csv)$/i.test(u.pathname))?E("download",p):"outbound"in D&&u.host&&u.host!=L.host&&E("outbound",p)}},!0);
for(let m of["pushState","replaceState"]){let f=h[m];h[m]=function(...a){a=f.apply(this,a);v();return a}}
addEventListener("popstate",()=>v());v();d.readyState[0]=="l"?d.addEventListener("DOMContentLoaded",R):R()})(document,history,location,navigator);
