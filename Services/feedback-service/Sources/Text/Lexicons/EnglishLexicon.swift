extension LexiconSource {
    /// English: valences on −4…4 for customer-feedback vocabulary, negators, boosters, contrast words and the stop
    /// words themes skip. One entry per line; a valence line is the term (one or more words) then its number.
    static let english = LexiconSource(
        language: "en",
        valences: """
            good 1.9
            great 3.1
            excellent 3.2
            excelent 3.0
            amazing 2.8
            amazingly 2.5
            awesome 3.1
            awsome 2.9
            fantastic 3.0
            wonderful 2.9
            wonderfull 2.7
            wonderfully 2.6
            outstanding 3.2
            superb 3.0
            brilliant 2.9
            brilliantly 2.6
            perfect 2.8
            perfectly 2.4
            perfection 2.8
            nice 1.8
            nicely 1.6
            fine 0.8
            okay 0.9
            ok 0.9
            alright 1.0
            decent 1.3
            solid 1.2
            satisfactory 1.4
            acceptable 1.0
            adequate 0.6
            sufficient 0.6
            satisfied 2.0
            satisfying 2.0
            satisfaction 1.9
            satisfy 1.5
            happy 2.7
            happier 2.4
            happiest 3.0
            happily 2.2
            pleased 2.1
            pleasing 1.8
            pleasant 2.3
            pleasantly 2.2
            pleasantly surprised 2.5
            pleasure 2.4
            delighted 3.0
            delightful 2.9
            delight 2.5
            glad 2.0
            thrilled 3.0
            love 3.2
            loved 2.9
            loves 2.7
            loving 2.8
            lovely 2.8
            in love 2.6
            liked 1.8
            i like 1.7
            we like 1.7
            don't like -1.8
            dont like -1.8
            do not like -1.8
            didn't like -1.8
            didnt like -1.8
            did not like -1.8
            adore 2.8
            adored 2.6
            adores 2.6
            enjoy 2.2
            enjoyed 2.3
            enjoying 2.2
            enjoys 2.0
            enjoyable 2.3
            fun 2.2
            cool 1.3
            neat 1.4
            sweet 1.8
            cute 1.6
            adorable 2.2
            charming 2.0
            beautiful 2.9
            beautifully 2.7
            gorgeous 2.8
            stunning 2.8
            elegant 2.1
            stylish 1.9
            sleek 1.8
            classy 1.8
            attractive 1.9
            appealing 1.6
            unappealing -1.5
            polished 1.6
            unpolished -1.2
            clean 1.4
            tidy 1.2
            spotless 2.0
            immaculate 2.5
            impeccable 3.0
            flawless 3.0
            flawlessly 2.8
            phenomenal 3.0
            incredible 2.9
            exceptional 3.0
            remarkable 2.4
            terrific 3.0
            fabulous 3.0
            marvelous 2.9
            marvellous 2.9
            splendid 2.7
            stellar 2.9
            sublime 2.8
            superior 2.0
            legendary 2.5
            epic 2.2
            magic 1.8
            magical 2.2
            ideal 2.0
            optimal 1.6
            refreshing 1.8
            relaxing 1.6
            rewarding 1.8
            impressive 2.3
            impressed 2.1
            impress 1.8
            impresses 2.0
            unimpressed -1.5
            wow 1.5
            yay 2.2
            kudos 2.5
            bravo 2.5
            congrats 2.0
            congratulations 2.0
            cheers 1.2
            praise 2.0
            admire 2.0
            gem 2.2
            lifesaver 2.5
            life saver 2.5
            game changer 2.5
            must have 2.2
            favorite 2.2
            favourite 2.2
            fan 1.4
            winner 1.8
            success 1.8
            successful 1.8
            successfully 1.5
            rocks 1.8
            excel 1.8
            excels 2.0
            shines 1.6
            nailed 2.2
            nailed it 2.8
            best 3.2
            best ever 3.3
            better 1.9
            better than expected 2.4
            better and better 2.5
            getting better 1.7
            never been better 2.5
            never been happier 3.0
            couldn't be happier 3.0
            couldnt be happier 3.0
            could not be happier 3.0
            couldn't be better 3.0
            couldnt be better 3.0
            could not be better 3.0
            improved 1.5
            improvement 1.3
            improving 1.3
            thank 1.0
            thanks 1.0
            thank you 1.2
            thankyou 1.2
            thx 0.9
            thanks for nothing -2.0
            thankful 2.0
            thankfully 1.5
            grateful 2.2
            appreciate 1.9
            appreciated 2.0
            appreciates 1.7
            appreciation 1.8
            appreciative 2.0
            fortunately 1.2
            luckily 1.3
            blessed 2.0
            relieved 1.6
            relief 1.5
            joy 2.8
            joyful 2.8
            cheerful 2.4
            excited 2.2
            exciting 2.2
            excitement 2.1
            proud 2.0
            hopeful 1.6
            confident 1.6
            confidence 1.3
            comfortable 1.7
            comfortably 1.5
            calm 1.2
            obsessed 1.8
            hooked 1.5
            recommend 1.8
            recommended 1.8
            recommending 1.6
            recommends 1.5
            recommendable 2.0
            recomend 1.8
            reccomend 1.8
            highly recommend 3.0
            highly recommended 3.0
            would recommend 2.2
            definitely recommend 2.8
            strongly recommend 2.8
            can't recommend enough 3.0
            cant recommend enough 3.0
            cannot recommend enough 3.0
            can't recommend it enough 3.0
            cant recommend it enough 3.0
            cannot recommend it enough 3.0
            can't recommend them enough 3.0
            cant recommend them enough 3.0
            do not recommend -2.3
            don't recommend -2.3
            dont recommend -2.3
            wouldn't recommend -2.3
            wouldnt recommend -2.3
            would not recommend -2.5
            not recommended -2.0
            helpful 2.0
            helpfull 1.9
            helped 1.5
            helps 1.3
            helping 1.2
            unhelpful -2.0
            no help -1.8
            useful 1.8
            usefull 1.7
            useless -2.4
            handy 1.5
            practical 1.2
            convenient 1.9
            conveniently 1.5
            convenience 1.5
            inconvenient -1.7
            inconvenience -1.6
            valuable 1.8
            invaluable 2.3
            beneficial 1.6
            benefit 1.0
            benefits 1.0
            advantage 1.0
            perks 1.2
            bonus 1.0
            worthwhile 1.8
            worth 1.0
            worth it 2.0
            well worth 2.2
            worth the money 2.2
            worth the price 2.0
            worth every penny 3.0
            not worth -2.0
            not worth it -2.2
            value for money 1.8
            bargain 1.8
            affordable 1.6
            reasonable 1.3
            reasonably 1.0
            fair 1.2
            fairly priced 1.5
            generous 2.0
            free 0.8
            free shipping 1.2
            free delivery 1.2
            cheaper 0.7
            friendly 2.2
            user friendly 2.2
            unfriendly -2.0
            polite 2.0
            politely 1.7
            impolite -2.1
            courteous 2.0
            discourteous -2.0
            kindness 2.0
            was kind 1.8
            were kind 1.8
            so kind 2.2
            very kind 2.3
            respectful 1.9
            disrespectful -2.3
            disrespect -2.2
            patient 1.5
            patience 1.2
            impatient -1.3
            attentive 1.8
            responsive 1.7
            unresponsive -2.0
            knowledgeable 1.9
            professional 1.9
            professionally 1.7
            professionalism 2.0
            unprofessional -2.3
            competent 1.7
            incompetent -2.4
            incompetence -2.4
            clueless -1.9
            caring 2.0
            considerate 1.8
            empathetic 1.8
            sympathetic 1.5
            supportive 1.8
            accommodating 1.8
            welcoming 2.0
            hospitable 2.0
            cordial 1.7
            gracious 2.0
            warm 0.8
            sincere 1.6
            genuine 1.6
            honest 1.8
            honesty 1.7
            transparent 1.6
            transparency 1.4
            trust 1.4
            trusted 1.6
            trustworthy 2.2
            untrustworthy -2.3
            reliable 2.0
            reliably 1.5
            reliability 1.2
            dependable 1.9
            unreliable -2.2
            consistent 1.2
            inconsistent -1.3
            accurate 1.4
            accurately 1.2
            inaccurate -1.6
            legit 1.5
            legitimate 1.0
            authentic 1.4
            secure 1.4
            safe 1.3
            safely 1.3
            insecure -1.7
            unsafe -1.9
            thorough 1.6
            careful 1.2
            carefully 1.3
            careless -1.8
            carelessly -1.6
            informative 1.5
            detailed 1.0
            clear 0.9
            unclear -1.4
            vague -1.3
            organized 1.4
            organised 1.4
            well organized 1.8
            disorganized -1.8
            disorganised -1.8
            unorganized -1.6
            mismanaged -2.0
            mismanagement -2.0
            understaffed -1.5
            above and beyond 2.8
            went above and beyond 3.0
            extra mile 2.5
            went the extra mile 2.8
            bent over backwards 2.5
            resolved 1.5
            solved 1.4
            fixed 1.2
            sorted 0.8
            problem solved 1.8
            issue resolved 1.8
            unresolved -1.8
            compensated 1.2
            refunded 0.8
            full refund 1.0
            apology 0.5
            apologize 0.5
            apologise 0.5
            apologized 0.6
            apologised 0.6
            apologetic 0.8
            fast 1.6
            faster 1.4
            fastest 1.8
            quick 1.5
            quickly 1.4
            quicker 1.3
            speedy 1.8
            prompt 1.5
            promptly 1.6
            swift 1.4
            swiftly 1.5
            rapid 1.2
            snappy 1.6
            lightning fast 2.5
            blazing fast 2.5
            efficient 1.9
            efficiently 1.7
            efficiency 1.3
            timely 1.5
            on time 1.2
            right on time 1.8
            in time 0.8
            on schedule 1.2
            ahead of schedule 2.0
            as promised 1.4
            arrived early 1.8
            came early 1.5
            delivered early 1.8
            next day 0.8
            same day 1.0
            faster than expected 2.2
            quicker than expected 2.2
            earlier than expected 2.0
            sooner than expected 2.0
            slow -1.2
            slower -1.3
            slowest -1.6
            slowly -1.0
            slowness -1.3
            slower than expected -1.6
            sluggish -1.6
            laggy -1.7
            lag -1.3
            lags -1.3
            lagging -1.5
            delay -1.3
            delays -1.3
            delayed -1.4
            delaying -1.3
            late -1.0
            lateness -1.3
            overdue -1.4
            later than expected -1.3
            longer than expected -1.2
            days late -1.8
            weeks late -2.2
            took forever -2.2
            takes forever -2.2
            taking forever -2.2
            took ages -2.0
            takes ages -2.0
            waited ages -2.0
            waited hours -1.8
            waited weeks -2.0
            waited -0.8
            long wait -1.8
            still waiting -1.8
            still no -1.3
            still not -1.3
            still hasn't -1.5
            still hasnt -1.5
            still haven't -1.5
            still havent -1.5
            still pending -1.3
            hasn't been processed -1.8
            hasnt been processed -1.8
            yet to receive -1.8
            yet to arrive -1.8
            yet to hear back -1.8
            never got a response -2.2
            never got any response -2.2
            never heard back -2.2
            on hold -1.3
            hours on hold -2.0
            never arrived -2.8
            never received -2.5
            never came -2.5
            never delivered -2.7
            never showed up -2.5
            not delivered -2.2
            not received -2.0
            haven't received -2.0
            havent received -2.0
            didn't arrive -2.3
            didnt arrive -2.3
            did not arrive -2.3
            hasn't arrived -2.0
            hasnt arrived -2.0
            has not arrived -2.0
            wrong -1.6
            wrong item -2.3
            wrong order -2.3
            wrong size -1.8
            incorrect -1.5
            missing -1.6
            lost -1.5
            lose -1.3
            losing -1.3
            loses -1.3
            stuck -1.5
            incomplete -1.4
            misplaced -1.3
            mishandled -1.7
            stranded -1.8
            abandoned -1.7
            crash -1.7
            crashed -1.7
            crashes -1.7
            crashing -1.7
            crashy -1.9
            keeps crashing -2.5
            freeze -1.6
            freezes -1.6
            freezing -1.6
            froze -1.6
            keeps freezing -2.3
            hangs -1.5
            bug -1.5
            bugs -1.5
            buggy -2.0
            glitch -1.5
            glitches -1.5
            glitchy -1.9
            broken -2.3
            broke -1.7
            breaks -1.6
            breaking -1.4
            broke down -2.0
            fell apart -2.3
            falling apart -2.2
            falls apart -2.2
            error -1.5
            errors -1.5
            fail -1.7
            fails -1.7
            failed -1.7
            failing -1.7
            failure -1.7
            failures -1.7
            malfunction -1.7
            malfunctioning -1.7
            defect -1.7
            defects -1.7
            defective -2.1
            faulty -2.1
            damaged -1.7
            damage -1.6
            dented -1.5
            scratched -1.4
            torn -1.6
            ripped -1.6
            cracked -1.7
            leaking -1.5
            leaked -1.4
            crushed -1.7
            squashed -1.5
            soggy -1.5
            soaked -1.3
            got wet -1.4
            wet -0.6
            spoiled -1.9
            rotten -2.5
            expired -1.6
            stale -1.6
            moldy -2.3
            mouldy -2.3
            dirty -1.7
            smelly -1.7
            dead -1.5
            died -1.5
            dead on arrival -2.8
            doa -2.5
            unusable -2.6
            worthless -2.6
            pointless -1.9
            unstable -1.7
            stable 1.4
            instability -1.6
            timeout -1.2
            timed out -1.5
            times out -1.5
            outage -1.7
            outages -1.7
            downtime -1.5
            blank screen -1.8
            black screen -1.8
            white screen -1.6
            infinite loading -2.0
            loading forever -2.0
            battery drain -1.8
            drains battery -1.8
            drains my battery -1.8
            bloated -1.5
            lightweight 1.0
            not working -2.0
            doesn't work -2.0
            doesnt work -2.0
            does not work -2.0
            didn't work -1.9
            didnt work -1.9
            did not work -1.9
            don't work -1.9
            dont work -1.9
            won't work -1.9
            wont work -1.9
            isn't working -2.0
            isnt working -2.0
            wasn't working -1.9
            wasnt working -1.9
            not work -1.8
            never works -2.2
            nothing works -2.4
            nothing worked -2.2
            stopped working -2.2
            stops working -2.1
            no longer works -2.0
            no longer working -2.0
            no longer available -1.4
            won't load -2.0
            wont load -2.0
            doesn't load -2.0
            doesnt load -2.0
            not loading -1.9
            won't open -2.0
            wont open -2.0
            doesn't open -1.9
            doesnt open -1.9
            can't login -2.0
            cant login -2.0
            can't log in -2.0
            cant log in -2.0
            cannot login -2.0
            cannot log in -2.0
            unable to login -2.0
            unable to log in -2.0
            unable to -1.5
            can't access -1.8
            cant access -1.8
            it works 1.2
            works well 1.6
            work well 1.5
            worked well 1.6
            working well 1.6
            easy 1.9
            easier 1.7
            easiest 2.0
            easily 1.6
            easy to use 2.3
            intuitive 2.1
            intuitively 1.6
            simple 1.3
            simpler 1.2
            straightforward 1.6
            smooth 1.9
            smoothly 1.9
            seamless 2.3
            seamlessly 2.2
            effortless 2.0
            effortlessly 1.9
            painless 1.7
            hassle free 2.0
            stress free 1.9
            worry free 1.8
            trouble free 1.8
            problem free 1.8
            bug free 1.8
            error free 1.6
            well designed 2.0
            well made 1.8
            well packaged 1.8
            well packed 1.8
            nicely packaged 2.0
            poorly packaged -2.0
            badly packaged -2.0
            well done 2.5
            good job 2.4
            great job 3.0
            nice job 2.2
            great work 2.9
            keep it up 2.2
            keep up the good work 2.6
            hats off 2.4
            thumbs up 2.0
            thumbs down -2.0
            spot on 2.2
            on point 2.0
            top notch 3.0
            first class 2.8
            first rate 2.7
            world class 2.9
            second to none 3.0
            five stars 2.8
            five star 2.8
            5 stars 2.8
            5 star 2.8
            10 10 3.0
            one star -2.3
            1 star -2.3
            two stars -1.4
            2 stars -1.4
            zero stars -2.8
            0 stars -2.8
            as described 1.2
            as advertised 1.2
            as expected 0.8
            not as described -2.0
            not as advertised -2.0
            exceeded expectations 2.8
            exceeded my expectations 2.8
            exceeds expectations 2.6
            beyond expectations 2.6
            met expectations 1.4
            met my expectations 1.4
            below expectations -1.8
            fell short -1.6
            falls short -1.6
            in good condition 1.8
            mint condition 2.0
            intact 1.2
            undamaged 1.2
            in one piece 1.0
            high quality 2.0
            top quality 2.5
            low quality -2.0
            cheaply made -2.0
            cheap quality -1.8
            feels cheap -1.6
            premium 1.2
            luxurious 2.0
            luxury 1.2
            durable 1.6
            sturdy 1.5
            flimsy -1.8
            fragile -0.9
            shoddy -2.3
            inferior -1.7
            subpar -1.8
            sub par -1.8
            substandard -2.0
            inadequate -1.8
            insufficient -1.4
            lacking -1.4
            lacks -1.2
            lack -1.2
            limited -0.8
            mediocre -1.2
            meh -0.8
            so so -0.4
            nothing special -0.8
            overrated -1.8
            underrated 1.0
            gimmick -1.2
            gimmicky -1.3
            boring -1.5
            dull -1.3
            bland -1.2
            tasteless -1.8
            tasty 2.0
            delicious 2.7
            yummy 2.3
            fresh 1.3
            disgusting -3.0
            gross -2.2
            inedible -2.6
            repetitive -1.0
            overcomplicated -1.8
            outdated -1.4
            clunky -1.8
            janky -1.8
            half baked -1.8
            unfinished -1.3
            cluttered -1.4
            messy -1.6
            confusing -1.7
            confused -1.4
            confuse -1.2
            confuses -1.3
            confusion -1.4
            complicated -1.5
            complex -0.8
            convoluted -1.8
            cumbersome -1.7
            tedious -1.7
            annoying -2.1
            annoyed -2.0
            annoys -1.8
            annoy -1.7
            annoyance -1.8
            irritating -2.0
            irritated -1.9
            frustrating -2.2
            frustrated -2.2
            frustration -2.2
            frustrates -2.0
            frustrate -1.9
            infuriating -2.8
            infuriated -2.8
            difficult -1.5
            difficulty -1.3
            difficulties -1.3
            hard to -1.3
            impossible -1.8
            painful -2.0
            pain -1.8
            nightmare -2.8
            hassle -1.7
            hassles -1.6
            no hassle 1.8
            no fuss 1.6
            headache -1.8
            headaches -1.8
            struggle -1.5
            struggled -1.5
            struggling -1.5
            ugly -2.1
            weird -0.8
            strange -0.6
            odd -0.5
            insane -1.2
            ads -0.5
            too many ads -1.8
            spam -1.5
            spammy -1.6
            spamming -1.6
            intrusive -1.6
            pushy -1.7
            hacked -1.7
            breach -1.7
            problem -1.5
            problems -1.5
            problematic -1.8
            issue -1.0
            issues -1.0
            trouble -1.5
            troubles -1.5
            troublesome -1.7
            no problem 1.4
            no problems 1.6
            no issue 1.4
            no issues 1.6
            not a problem 1.2
            no worries 1.3
            no delay 1.2
            no delays 1.3
            no complaints 1.8
            can't complain 1.5
            cant complain 1.5
            nothing to complain about 1.5
            no regrets 2.0
            nothing wrong 1.2
            can't fault 2.2
            cant fault 2.2
            cannot fault 2.2
            never disappoints 2.5
            never disappoint 2.3
            never fails 2.0
            never failed 1.8
            never had a problem 2.0
            never had any problems 2.0
            never had problems 2.0
            never had an issue 2.0
            never had any issues 2.0
            never had issues 2.0
            without any problems 1.8
            without any issues 1.8
            without any hassle 1.8
            without issues 1.5
            without problems 1.5
            not disappointed 1.8
            didn't disappoint 2.2
            didnt disappoint 2.2
            did not disappoint 2.2
            nothing but problems -2.5
            nothing but trouble -2.5
            nothing but issues -2.5
            not bad 1.0
            not too bad 1.0
            not great -1.2
            not good -1.6
            not the best -0.8
            not perfect -0.3
            not happy -2.0
            not impressed -1.6
            not satisfied -1.8
            could be better -1.0
            needs improvement -1.2
            needs work -1.2
            room for improvement -0.8
            getting worse -2.3
            gotten worse -2.3
            worse and worse -2.5
            worse than expected -2.2
            gone downhill -2.5
            went downhill -2.5
            downhill -1.8
            deteriorated -2.0
            degraded -1.7
            downgrade -1.5
            downgraded -1.5
            mistake -1.5
            mistakes -1.5
            mistaken -1.2
            mess -1.9
            messed up -2.1
            screwed up -2.3
            screw up -2.0
            screwed -2.0
            botched -2.1
            mix up -1.3
            mixup -1.3
            mixed up -1.3
            fiasco -2.3
            disaster -2.8
            disastrous -2.9
            catastrophe -2.9
            chaos -2.0
            chaotic -2.0
            shambles -2.4
            a joke -1.8
            bad -2.5
            badly -2.1
            worse -2.1
            worst -3.1
            worst ever -3.4
            terrible -3.4
            terible -3.2
            horrible -3.1
            horible -2.9
            horribly -2.5
            horrendous -3.2
            horrid -2.8
            atrocious -3.3
            abysmal -3.2
            appalling -3.1
            appalled -2.8
            awful -3.1
            dreadful -3.0
            pathetic -2.7
            woeful -2.5
            dire -2.2
            poor -2.1
            poorly -2.0
            lousy -2.3
            nasty -2.4
            vile -2.8
            ridiculous -2.2
            absurd -1.8
            laughable -2.0
            unacceptable -2.6
            inexcusable -2.7
            unbearable -2.6
            shameful -2.6
            shame -1.9
            disgrace -2.7
            disgraceful -2.8
            embarrassing -2.1
            scandalous -2.5
            outrageous -2.6
            garbage -2.8
            trash -2.6
            rubbish -2.5
            junk -2.3
            crap -2.6
            crappy -2.6
            shit -2.6
            shitty -2.8
            bullshit -2.8
            bs -1.8
            sucks -2.4
            suck -2.2
            sucked -2.3
            sucky -2.2
            damn -1.2
            wtf -2.2
            ffs -1.8
            ugh -1.7
            argh -1.8
            sigh -1.2
            smh -1.5
            avoid -2.0
            beware -2.2
            warning -1.2
            stay away -2.5
            don't bother -2.0
            dont bother -2.0
            never again -2.8
            dodgy -2.0
            shady -2.1
            sketchy -1.9
            suspicious -1.5
            sneaky -2.0
            predatory -2.6
            misleading -2.2
            misled -2.1
            mislead -2.0
            deceptive -2.5
            deceived -2.5
            dishonest -2.6
            lied -2.5
            lie -2.0
            lies -2.2
            lying -2.4
            liar -2.7
            liars -2.8
            false -1.4
            false advertising -2.5
            bait and switch -2.5
            broken promises -2.3
            tricked -2.3
            scam -3.0
            scams -2.8
            scammed -3.0
            scammer -3.0
            scammers -3.0
            fraud -3.1
            fraudulent -3.1
            cheated -2.8
            cheat -2.5
            cheating -2.6
            stole -2.4
            stolen -2.2
            theft -2.5
            thieves -2.8
            extortion -2.8
            rip off -2.8
            ripoff -2.8
            ripped off -2.8
            overpriced -1.7
            expensive -1.0
            pricey -1.0
            costly -1.2
            steep -0.9
            overcharged -1.7
            overcharge -1.7
            overcharging -1.7
            double charged -2.5
            charged twice -2.5
            wrongly charged -2.2
            charged again -1.5
            hidden fees -2.3
            hidden fee -2.2
            hidden charges -2.3
            unauthorized charge -2.5
            extra charges -1.5
            price hike -1.6
            price increase -1.0
            prices went up -1.2
            price went up -1.2
            prices increased -1.2
            price increased -1.0
            too high -1.2
            no tracking -1.0
            greedy -2.2
            greed -2.0
            stingy -1.5
            unfair -2.0
            unfairly -1.8
            waste -2.0
            wasted -2.1
            wasting -2.0
            waste of money -2.5
            waste of time -2.3
            money back -0.5
            no refund -2.2
            not refunded -2.2
            never refunded -2.5
            refused -1.7
            refuse -1.6
            refuses -1.7
            refusing -1.7
            denied -1.7
            deny -1.4
            denies -1.5
            declined -1.2
            rejected -1.6
            chargeback -1.6
            dispute -1.3
            complaint -1.5
            complaints -1.4
            complain -1.4
            complained -1.5
            complaining -1.5
            complains -1.3
            rude -2.4
            rudely -2.3
            rudeness -2.4
            arrogant -2.2
            condescending -2.1
            dismissive -2.0
            lazy -1.9
            sloppy -1.9
            rushed -1.0
            negligent -2.2
            negligence -2.2
            irresponsible -2.1
            neglect -1.8
            neglected -1.9
            overlooked -1.0
            forgot -1.2
            forgotten -1.2
            ignored -2.0
            ignoring -1.9
            ignore -1.5
            ignores -1.8
            ghosted -2.2
            no response -2.0
            no reply -1.9
            no answer -1.6
            no support -1.5
            never responded -2.3
            never replied -2.2
            never answered -2.0
            never got back -2.2
            no one answers -2.0
            nobody answers -2.0
            no one answered -2.0
            nobody answered -2.0
            no one responded -2.0
            nobody responded -2.0
            hung up -2.0
            runaround -2.0
            run around -1.5
            robotic -1.2
            scripted -1.0
            generic -0.6
            copy paste -1.2
            yelled -2.2
            shouted -1.8
            screamed -2.0
            insulted -2.5
            insulting -2.4
            humiliating -2.6
            humiliated -2.6
            mocked -2.2
            threatened -2.3
            harassed -2.7
            harassment -2.8
            abusive -2.8
            aggressive -2.0
            hostile -2.3
            racist -3.0
            discriminated -2.5
            discrimination -2.5
            blame -1.4
            blamed -1.5
            blaming -1.6
            angry -2.3
            anger -2.3
            furious -3.0
            mad -2.1
            livid -2.9
            rage -2.5
            pissed -2.5
            pissed off -2.7
            outraged -2.9
            upset -2.0
            upsetting -2.0
            sad -2.1
            sadly -1.6
            unfortunately -1.4
            unfortunate -1.4
            regrettably -1.5
            sorry -0.3
            unhappy -2.1
            unsatisfied -1.9
            dissatisfied -2.1
            dissatisfaction -2.0
            unsatisfactory -1.9
            displeased -2.0
            displeasure -2.0
            unpleasant -2.1
            disappointing -2.2
            disappointed -2.1
            dissapointed -2.1
            disapointed -2.1
            dissapointing -2.2
            disapointing -2.2
            disappoint -1.9
            disappoints -1.9
            disappointment -2.3
            letdown -1.9
            let down -1.9
            let me down -2.1
            underwhelming -1.5
            underwhelmed -1.5
            hate -2.7
            hated -2.6
            hates -2.5
            hating -2.6
            hateful -2.7
            loathe -2.8
            despise -2.8
            detest -2.8
            regret -1.9
            regrets -1.8
            regretted -1.9
            regretting -2.0
            regrettable -1.8
            worried -1.4
            worry -1.3
            worrying -1.4
            concerned -1.0
            concern -0.8
            concerns -0.8
            anxious -1.5
            stress -1.6
            stressed -1.8
            stressful -1.9
            scared -1.6
            afraid -1.4
            fear -1.6
            panic -1.8
            disgusted -2.8
            shocked -1.6
            shocking -2.0
            horrified -2.7
            horror -2.5
            dismayed -2.0
            baffled -1.2
            bitter -1.5
            fed up -2.1
            sick of -2.1
            tired of -1.8
            had enough -2.0
            hopeless -2.2
            helpless -1.8
            desperate -1.7
            miserable -2.7
            depressing -2.1
            bothered -1.0
            bothersome -1.5
            uncomfortable -1.6
            ruin -2.3
            ruined -2.5
            ruins -2.3
            destroy -2.3
            destroyed -2.4
            wreck -2.0
            wrecked -2.2
            suffer -2.0
            suffered -2.0
            suffering -2.1
            hurt -1.8
            hurts -1.6
            harm -1.8
            harmed -1.8
            unavailable -1.2
            unreachable -1.7
            inaccessible -1.6
            uncooperative -2.0
            unwilling -1.4
            unreadable -1.4
            accessible 1.0
            loyal 1.8
            loyalty 1.4
            customer for life 3.0
            will be back 2.0
            will come back 2.0
            coming back 1.5
            shop again 2.0
            order again 2.0
            buy again 2.0
            purchase again 2.0
            use again 1.8
            won't be back -2.5
            wont be back -2.5
            won't be returning -2.5
            wont be returning -2.5
            never buying -2.5
            never ordering -2.5
            never shopping -2.5
            never using -2.3
            wish i never -2.0
            wish i hadn't -2.0
            wish i hadnt -2.0
            never should have -1.8
            should never have -1.8
            cancel -1.0
            cancelled -1.2
            canceled -1.2
            cancelling -1.2
            canceling -1.2
            cancellation -1.0
            unsubscribe -1.0
            unsubscribed -1.0
            switching to -1.5
            switched to -1.5
            leaving -0.8
            uninstall -1.7
            uninstalled -1.7
            uninstalling -1.7
            deleted the app -2.0
            out of stock -1.2
            sold out -0.8
            too small -1.0
            too big -0.8
            too large -0.8
            too tight -1.0
            too short -0.8
            too long -1.0
            doesn't fit -1.5
            doesnt fit -1.5
            didn't fit -1.5
            didnt fit -1.5
            👍 1.8
            👍🏻 1.8
            👍🏼 1.8
            👍🏽 1.8
            👍🏾 1.8
            👍🏿 1.8
            👎 -1.8
            👎🏻 -1.8
            👎🏼 -1.8
            👎🏽 -1.8
            👎🏾 -1.8
            👎🏿 -1.8
            🙂 1.5
            😊 2.0
            ❤️ 2.6
            😍 2.8
            🥰 2.8
            🤩 2.8
            😀 2.0
            😃 2.1
            😄 2.2
            😁 2.0
            😘 2.0
            😎 1.5
            👌 1.8
            👏 2.0
            🙏 1.4
            💯 2.0
            🔥 1.5
            🎉 2.0
            ✅ 1.0
            ❌ -1.2
            😡 -2.8
            😠 -2.5
            🤬 -3.0
            😤 -2.2
            😞 -2.0
            😔 -1.7
            😢 -2.0
            😭 -1.8
            😩 -1.9
            😫 -1.9
            😒 -1.7
            🙄 -1.6
            🙁 -1.7
            ☹️ -1.9
            😕 -1.2
            😐 -0.4
            🤮 -2.8
            🤢 -2.4
            😱 -1.5
            💔 -2.2
            💩 -2.5
            """,
        negators: """
            not no never none nobody nothing neither nor nowhere without hardly barely scarcely rarely seldom cannot
            don't dont doesn't doesnt didn't didnt isn't isnt wasn't wasnt aren't arent weren't werent
            can't cant couldn't couldnt won't wont wouldn't wouldnt shouldn't shouldnt
            haven't havent hasn't hasnt hadn't hadnt mustn't mustnt needn't neednt ain't aint
            """,
        postNegators: "",
        boosters: """
            very 0.293
            really 0.25
            so 0.2
            so much 0.3
            super 0.3
            extremely 0.4
            incredibly 0.35
            unbelievably 0.35
            totally 0.3
            absolutely 0.35
            completely 0.3
            entirely 0.25
            fully 0.2
            utterly 0.35
            truly 0.3
            highly 0.3
            quite 0.15
            too 0.2
            way too 0.35
            much 0.2
            especially 0.2
            particularly 0.2
            exceptionally 0.35
            remarkably 0.3
            seriously 0.25
            terribly 0.3
            awfully 0.3
            insanely 0.35
            ridiculously 0.35
            hugely 0.3
            massively 0.3
            immensely 0.35
            enormously 0.3
            extraordinarily 0.35
            exceedingly 0.35
            deeply 0.3
            greatly 0.3
            thoroughly 0.3
            definitely 0.2
            certainly 0.15
            genuinely 0.2
            overly 0.2
            excessively 0.3
            constantly 0.2
            freaking 0.3
            freakin 0.3
            bloody 0.3
            fucking 0.35
            majorly 0.3
            pretty 0.1
            slightly -0.25
            somewhat -0.2
            a bit -0.2
            a little -0.2
            a little bit -0.25
            a tad -0.2
            bit -0.15
            little -0.2
            kind of -0.2
            kinda -0.2
            sort of -0.2
            sorta -0.2
            rather -0.1
            fairly -0.1
            marginally -0.25
            partly -0.2
            partially -0.2
            mildly -0.25
            moderately -0.15
            relatively -0.1
            almost -0.1
            nearly -0.1
            mostly -0.1
            occasionally -0.2
            sometimes -0.15
            more or less -0.15
            """,
        contrastives: "but however although though yet nevertheless nonetheless",
        stopWords: """
            a an the and or but if then else than so as at by for from in into of off on onto out over to up down
            with within without about above after again against all am any are aren't be because been before being
            below between both can could did do does doing done during each few further had has have having he her
            here hers herself him himself his how i i'm i've i'd i'll im ive is it it's its itself just me more
            most my myself no nor not now once only other our ours ourselves own same she should some such that
            that's thats their theirs them themselves these they they're theyre this those through too under until
            very was we we're we've were what what's whats when where which while who whom why will would you
            you're youre you've your yours yourself yourselves also really still even ever yet already always
            sometimes often maybe perhaps actually basically literally quite rather pretty much many lot lots bit
            little get gets got getting gotten go goes going went gone make makes made making say says said tell
            told know knew think thought want wanted need needed take took taken give gave come came see saw seen
            look looked looking try tried trying let let's put keep kept seem seems seemed feel felt thing things
            stuff something anything everything nothing someone anyone everyone somebody anybody everybody one two
            three four five six seven eight nine ten first second last another every either neither way able
            thanks thank please hi hello hey dear guys team regards ok okay yes yeah yep etc via per like
            might must shall may can't cannot won't don't didn't doesn't isn't wasn't dont didnt doesnt isnt wasnt
            cant wont there there's theres us today yesterday tomorrow oh well since cause cuz though however
            although u ur anyway anyways whole kind sort lol keeps anymore twice back
            """
    )
}
